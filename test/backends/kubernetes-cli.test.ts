/**
 * `smelter query2` and a `smelter sql` join with `--backend kubernetes`, end to end: the CLI creates
 * a Job per attempt on a real control plane (scripts/install-kube.sh), the local node agent runs
 * each pod's command (Smelter's container entry with the built-in workers, DuckDB included) over the
 * Big Data Benchmark's tiny data in the embedded S3 server, and the results equal DuckDB alone's.
 * Plus the flags' errors: a missing image, bad quantities, an unreachable API server, a missing namespace.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { assertJoinMatches, assertQuery2Matches, JOIN_SQL, putBdbTiny, smelter } from "../helpers/remote-cli.js";
import { startKubeCluster, type KubeCluster } from "../tooling/kube-cluster.js";
import { startNodeAgent, type NodeAgent } from "../tooling/kube-node-agent.js";

const taskBin = fileURLToPath(new URL("../../../bin/smelter-task.js", import.meta.url));
const builtins = fileURLToPath(new URL("../../src/builtin-workers/builtin.js", import.meta.url));

describe("smelter on --backend kubernetes (a real control plane, the node agent, the embedded S3 server)", () => {
  let s3: S3Server;
  let cluster: KubeCluster;
  let agent: NodeAgent;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let kubeFlags: string[];
  before(async () => {
    s3 = await startS3Server({ buckets: ["bdb"] });
    await putBdbTiny(s3, "bdb");
    cluster = await startKubeCluster();
    agent = await startNodeAgent(cluster.kubeConfig(), { env: { ...s3.env, HOME: process.env.HOME ?? "/tmp" } });
    dir = mkdtempSync(join(tmpdir(), "smelter-kube-cli-"));
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: cluster.server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "admin", user: { token: cluster.token } }],
      contexts: [{ name: "local", context: { cluster: "local", user: "admin", namespace: "default" } }],
      "current-context": "local",
    }));
    env = { ...process.env, ...s3.env, KUBECONFIG: kubeconfig };
    kubeFlags = ["--backend", "kubernetes", "--kube-image", "smelter-worker:test", "--kube-command", JSON.stringify([process.execPath, taskBin]), "--kube-worker-module", builtins, "--kube-cpu", "500m", "--kube-memory", "2Gi", "--kube-concurrency", "2", "--quiet"];
  });
  after(async () => {
    await agent?.stop();
    await cluster?.stop();
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("query2 equals DuckDB alone's, every task run in a pod (settings from smelter.config.json)", async () => {
    const before = agent.started();
    const config = join(dir, "smelter.config.json");
    writeFileSync(config, JSON.stringify({ backend: "kubernetes", kubernetes: { image: "smelter-worker:test", command: [process.execPath, taskBin], workerModule: builtins, cpu: "500m", memory: "2Gi", concurrency: 2 } }, null, 2));
    const r = await smelter(["query2", "--input", "s3://bdb/tiny/uservisits/", "--prefix-len", "8", "--format", "json", "--task-bytes", "600000", "--config", config, "--quiet"], env);
    assert.equal(r.status, 0, r.stderr);
    await assertQuery2Matches(r.stdout);
    assert.ok(agent.started() - before >= 3, `the pods ran the tasks (${agent.started() - before} pods)`);
    assert.deepEqual(agent.errors, []);
  });

  test("a sql join equals DuckDB alone's", async () => {
    const sql = JOIN_SQL;
    const before = agent.started();
    const r = await smelter(["sql", sql, "--table", "uservisits=s3://bdb/tiny/uservisits/", "--schema", "uservisits=bdb:uservisits", "--table", "rankings=s3://bdb/tiny/rankings/", "--schema", "rankings=bdb:rankings", "--join", "partitioned", "--partitions", "2", "--format", "json", ...kubeFlags], env);
    assert.equal(r.status, 0, r.stderr);
    await assertJoinMatches(r.stdout);
    assert.ok(agent.started() - before >= 3, "the join's tasks ran in pods");
  });

  test("missing or bad settings, an unreachable API server and a missing namespace say what to fix", async () => {
    const base = ["query2", "--input", "s3://bdb/tiny/uservisits/", "--backend", "kubernetes", "--quiet"];
    const missing = await smelter(base, env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--backend kubernetes needs --kube-image/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, "no stack trace");
    const bad = await smelter([...base, "--kube-image", "i", "--kube-memory", "lots", "--kube-cpu", "fast"], env);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--kube-cpu: cpu must be a Kubernetes CPU quantity.*--kube-memory: memory must be a Kubernetes memory quantity/s);
    const nowhere = join(dir, "nowhere");
    writeFileSync(nowhere, JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "x", cluster: { server: "https://127.0.0.1:9", "insecure-skip-tls-verify": true } }], users: [{ name: "u", user: { token: "t" } }], contexts: [{ name: "x", context: { cluster: "x", user: "u" } }], "current-context": "x" }));
    const unreachable = await smelter([...base, "--kube-image", "i", "--kubeconfig", nowhere], env);
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /could not reach the Kubernetes API server at https:\/\/127\.0\.0\.1:9/);
    assert.doesNotMatch(unreachable.stderr, /\n\s+at /, "no stack trace");
    const noNs = await smelter([...base, "--kube-image", "i", "--kube-namespace", "no-such-ns"], env);
    assert.equal(noNs.status, 1);
    assert.match(noNs.stderr, /namespace "no-such-ns" not found/);
    const noContext = await smelter([...base, "--kube-image", "i", "--kube-context", "elsewhere"], env);
    assert.match(noContext.stderr, /the kubeconfig has no context "elsewhere": use one of local/);
    const badConfig = join(dir, "bad.config.json");
    writeFileSync(badConfig, JSON.stringify({ kubernetes: { image: "i", memory: "lots" } }, null, 2));
    const fromFile = await smelter([...base, "--config", badConfig], env);
    assert.equal(fromFile.status, 1);
    assert.match(fromFile.stderr, /bad\.config\.json: kubernetes\.memory \(line 4\): memory must be a Kubernetes memory quantity/);
  });
});
