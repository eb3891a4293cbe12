/**
 * `smelter query2` and a `smelter sql` join with `--backend fargate`, end to end: the CLI runs
 * each task as an ECS task on moto's ECS API with the task agent (./fargate-setup.ts), whose
 * process is Smelter's container entry running the built-in workers (DuckDB included) over the Big
 * Data Benchmark's tiny data in the embedded S3 server; the results equal DuckDB alone's. Plus the
 * flags' errors and a wrong cluster, in Smelter's words.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertJoinMatches, assertQuery2Matches, JOIN_SQL, putBdbTiny, smelter } from "../helpers/remote-cli.js";
import { CLUSTER, ecs, network, registerWorkerDefinition, s3 } from "./fargate-setup.js";

const builtins = fileURLToPath(new URL("../../src/builtin-workers/builtin.js", import.meta.url));

describe("smelter on --backend fargate (moto's ECS API + the task agent, the embedded S3 server)", () => {
  let env: NodeJS.ProcessEnv;
  let fargateFlags: string[];
  const tasksRun = async (): Promise<number> => (await ecs.agentTasks()).length;
  before(async () => {
    await putBdbTiny(s3, "bdb");
    await registerWorkerDefinition("smelter-builtin", builtins, { HOME: process.env.HOME ?? "/tmp" });
    env = { ...process.env, ...s3.env };
    fargateFlags = [
      "--backend", "fargate",
      "--fargate-cluster", CLUSTER,
      "--fargate-task-definition", "smelter-builtin",
      "--fargate-subnets", network.subnets[0]!,
      "--fargate-security-groups", network.securityGroups.join(","),
      "--fargate-endpoint", ecs.endpoint,
      "--fargate-region", "us-east-1",
      "--fargate-poll-ms", "100",
      "--fargate-concurrency", "4",
      "--quiet",
    ];
  });

  test("query2 equals DuckDB alone's, every task run as an ECS task", async () => {
    const before = await tasksRun();
    const r = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", "--prefix-len", "8", "--format", "json", "--task-bytes", "600000", ...fargateFlags], env);
    assert.equal(r.status, 0, r.stderr);
    await assertQuery2Matches(r.stdout);
    assert.ok((await tasksRun()) - before >= 3, "the tasks ran as ECS tasks");
  });

  test("a sql join equals DuckDB alone's", async () => {
    const sql = JOIN_SQL;
    const before = await tasksRun();
    const r = await smelter(["sql", sql, "--table", "uservisits=s3://bdb/tiny/uservisits/", "--schema", "uservisits=bdb:uservisits", "--table", "rankings=s3://bdb/tiny/rankings/", "--schema", "rankings=bdb:rankings", "--join", "partitioned", "--partitions", "2", "--task-bytes", "1000000", "--format", "json", ...fargateFlags], env);
    assert.equal(r.status, 0, r.stderr);
    await assertJoinMatches(r.stdout);
    assert.ok((await tasksRun()) - before >= 3, "the join's tasks ran as ECS tasks");
  });

  test("missing or bad settings, a wrong cluster and an unreachable endpoint say what to fix", async () => {
    const base = ["query2", "--input", "s3://bdb/tiny/uservisits/", "--backend", "fargate", "--quiet"];
    const missing = await smelter(base, env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--backend fargate needs --fargate-cluster/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, "no stack trace");
    const flag = (name: string, value: string) => fargateFlags.map((f, i) => (fargateFlags[i - 1] === name ? value : f));
    const badSubnet = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", ...flag("--fargate-subnets", "net-1")], env);
    assert.match(badSubnet.stderr, /--fargate-subnets: subnets must be subnet ids/);
    const wrongCluster = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", ...flag("--fargate-cluster", "nope")], env);
    assert.equal(wrongCluster.status, 1);
    assert.match(wrongCluster.stderr, /ECS cluster nope at http:\/\/127\.0\.0\.1:\d+ does not exist or is not ACTIVE/);
    const nowhere = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", ...flag("--fargate-endpoint", "http://127.0.0.1:9")], env);
    assert.equal(nowhere.status, 1);
    assert.match(nowhere.stderr, /could not reach ECS cluster smelter-test at http:\/\/127\.0\.0\.1:9/);
    assert.doesNotMatch(nowhere.stderr, /\n\s+at /, "no stack trace");
  });
});
