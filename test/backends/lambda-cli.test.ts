/**
 * `smelter query2` and a `smelter sql` join with `--backend lambda`, end to end: the CLI invokes
 * Smelter's handler under the real Runtime Interface Emulator (through the test front), the
 * function runs the built-in workers (DuckDB included) over the Big Data Benchmark's tiny data in
 * the embedded S3 server, and the results equal DuckDB alone's. Plus the flags' errors.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { assertJoinMatches, assertQuery2Matches, JOIN_SQL, putBdbTiny, smelter } from "../helpers/remote-cli.js";
import { startLambdaFront, type LambdaFront } from "../tooling/lambda-front.js";

const bootstrap = fileURLToPath(new URL("../../../bin/smelter-lambda-bootstrap.js", import.meta.url));
const builtins = fileURLToPath(new URL("../../src/builtin-workers/builtin.js", import.meta.url));

describe("smelter on --backend lambda (the real RIE through the front, the embedded S3 server)", () => {
  let s3: S3Server;
  let front: LambdaFront;
  let env: NodeJS.ProcessEnv;
  let lambdaFlags: string[];
  before(async () => {
    s3 = await startS3Server({ buckets: ["bdb"] });
    await putBdbTiny(s3, "bdb");
    front = await startLambdaFront({ command: [process.execPath, bootstrap], concurrency: 2, timeoutSeconds: 60, memoryMb: 2048, env: { ...s3.env, SMELTER_WORKER_MODULE: builtins, HOME: process.env.HOME ?? "/tmp" } });
    env = { ...process.env, ...s3.env };
    lambdaFlags = ["--backend", "lambda", "--lambda-function", front.functionName, "--lambda-endpoint", front.endpoint, "--lambda-region", "us-east-1", "--quiet"];
  });
  after(async () => {
    await front?.stop();
    await s3?.stop();
  });

  test("query2 equals DuckDB alone's, every task run by the function", async () => {
    const r = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", "--prefix-len", "8", "--format", "json", "--task-bytes", "65536", ...lambdaFlags], env);
    assert.equal(r.status, 0, r.stderr);
    await assertQuery2Matches(r.stdout);
    assert.ok(front.stats.invocations >= 3, `the function ran the tasks (${front.stats.invocations} invocations)`);
  });

  test("a sql join equals DuckDB alone's", async () => {
    const sql = JOIN_SQL;
    const before = front.stats.invocations;
    const r = await smelter(["sql", sql, "--table", "uservisits=s3://bdb/tiny/uservisits/", "--schema", "uservisits=bdb:uservisits", "--table", "rankings=s3://bdb/tiny/rankings/", "--schema", "rankings=bdb:rankings", "--join", "partitioned", "--partitions", "2", "--format", "json", ...lambdaFlags], env);
    assert.equal(r.status, 0, r.stderr);
    await assertJoinMatches(r.stdout);
    assert.ok(front.stats.invocations - before >= 3, "the join's tasks ran in the function");
  });

  test("missing or bad settings and an unreachable endpoint say what to fix", async () => {
    const base = ["query2", "--input", "s3://bdb/tiny/uservisits/", "--backend", "lambda", "--quiet"];
    const missing = await smelter(base, env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--backend lambda needs --lambda-function/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, "no stack trace");
    const badRegion = await smelter([...base, "--lambda-function", "f", "--lambda-region", "moon"], env);
    assert.match(badRegion.stderr, /--lambda-region must look like us-east-1/);
    const nowhere = await smelter([...base, "--lambda-function", "smelter", "--lambda-endpoint", "http://127.0.0.1:9", "--lambda-region", "us-east-1"], env);
    assert.equal(nowhere.status, 1);
    assert.match(nowhere.stderr, /could not reach Lambda function smelter at http:\/\/127\.0\.0\.1:9/);
    const wrongName = await smelter([...base, "--lambda-function", "other", "--lambda-endpoint", front.endpoint, "--lambda-region", "us-east-1"], env);
    assert.match(wrongName.stderr, /Lambda function other at .* does not exist/);
  });
});
