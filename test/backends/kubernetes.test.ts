/**
 * The kubernetes backend against a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler: scripts/install-kube.sh) and the local node agent that runs each pod as a process
 * (test/tooling/kube-node-agent.ts): every pod runs Smelter's container entry (bin/smelter-task.js)
 * with the test workers; envelopes and replies go through the embedded S3 server. The Job
 * controller, the scheduler, foreground deletion and RBAC are the real ones.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BatchV1Api, CoreV1Api, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type V1Job } from "@kubernetes/client-node";
import { kubernetesBackend, type KubernetesBackend, type KubernetesBackendOptions } from "../../src/backends/kubernetes/backend.js";
import { kubernetesRbac, kubernetesWorkerIamPolicy } from "../../src/backends/kubernetes/rbac.js";
import { podCapacity } from "../../src/backends/kubernetes/settings.js";
import type { AttemptOutcome } from "../../src/backends/contract.js";
import { remoteStore } from "../../src/url-objects.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { Manager } from "../../src/scheduler/manager.js";
import { estimateCost, placeOf } from "../../src/report/cost.js";
import { DEFAULT_PRICES, withOverrides } from "../../src/report/prices.js";
import type { TimelineAttempt } from "../../src/report/timeline.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { openStore } from "../../src/storage/url.js";
import { startKubeCluster, type KubeCluster } from "../tooling/kube-cluster.js";
import { startNodeAgent, type NodeAgent } from "../tooling/kube-node-agent.js";
import { isAlive, waitFor } from "../tooling/processes.js";
import { envelope, launch, runBackendConformance, runToEnd, within } from "./conformance.js";

const TASK_BIN = fileURLToPath(new URL("../../../bin/smelter-task.js", import.meta.url));
const WORKERS = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
const NS = "default";
const PREFIX = "kube-test/";

const s3: S3Server = await startS3Server({ buckets: ["smelter"] });
Object.assign(process.env, s3.env); // the manager's store access; the pods get theirs from the node (below)
let cluster: KubeCluster | undefined;
let agent: NodeAgent | undefined;
try {
  cluster = await startKubeCluster();
  // The node's ambient credentials (as an instance role or IRSA would give): never in a Job spec.
  agent = await startNodeAgent(cluster.kubeConfig(), { env: { ...s3.env, HOME: process.env.HOME ?? "/tmp" } });
} catch (err) {
  await agent?.stop();
  await cluster?.stop();
  await s3.stop();
  throw err;
}
const kc = cluster.kubeConfig();
const batch = kc.makeApiClient(BatchV1Api);
const core = kc.makeApiClient(CoreV1Api);
after(async () => {
  await agent?.stop();
  await cluster?.stop();
  await s3.stop();
});

const store = remoteStore(`s3://smelter/${PREFIX}`);
const backendWith = (o: Partial<KubernetesBackendOptions> = {}): KubernetesBackend =>
  kubernetesBackend({ kubeConfig: kc, store, namespace: NS, image: "smelter-worker:test", command: [process.execPath, TASK_BIN], workerModule: WORKERS, cpu: "500m", memory: "1Gi", concurrency: 2, terminationGracePeriodSeconds: 1, ...o });

async function ourJobs(): Promise<V1Job[]> {
  return (await batch.listNamespacedJob({ namespace: NS, labelSelector: "smelter.dev/instance" })).items;
}

async function leftovers(): Promise<string[]> {
  const { store: s } = await openStore("s3://smelter/");
  const keys: string[] = [];
  for await (const o of s.list(PREFIX)) keys.push(o.key);
  return keys;
}

runBackendConformance("kubernetes", () => backendWith(), {
  crash: true,
  killHung: true,
  stdio: "a pod's stdout and stderr go to its log (read back on failure), not to the listener; ctx.log lines do",
  warm: "every attempt is a new pod (cold: true)",
  stoppable: "a kill waits until the Job's foreground deletion is confirmed (a second or more, not 400 ms): tested below",
});

describe("kubernetes backend", () => {
  let backend: KubernetesBackend;
  before(() => {
    backend = backendWith();
  });
  after(() => backend.close?.());

  it("creates one Job per attempt as specified: backoffLimit 0, deadline, TTL, labels, resources, no token; runtime id = pod name", async () => {
    const e = { ...envelope("sleep", { ms: 1500 }), deadline: Date.now() + 120_000 };
    let runtimeId = "";
    const handle = backend.launch(e, { onRunning: (i) => (runtimeId = i.runtimeId), onLog: () => {}, onHeartbeat: () => {} });
    const job = await waitFor("the Job", 20_000, async () => (await ourJobs()).find((j) => j.metadata?.annotations?.["smelter.dev/attempt-id"] === e.attemptId));
    const spec = job.spec!;
    assert.equal(spec.backoffLimit, 0);
    assert.ok(spec.activeDeadlineSeconds! >= 118 && spec.activeDeadlineSeconds! <= 120, `activeDeadlineSeconds ${spec.activeDeadlineSeconds}`);
    assert.equal(spec.ttlSecondsAfterFinished, 600);
    const labels = job.metadata?.labels ?? {};
    assert.deepEqual([labels["smelter.dev/job"], labels["smelter.dev/stage"], labels["smelter.dev/task"], labels["smelter.dev/attempt"]], [e.jobId, "1", String(e.task), "1"]);
    const pod = spec.template.spec!;
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.automountServiceAccountToken, false);
    const c = pod.containers[0]!;
    assert.deepEqual(JSON.parse(JSON.stringify(c.resources)), { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "500m", memory: "1Gi" } });
    const env = Object.fromEntries((c.env ?? []).map((v) => [v.name, v.value]));
    assert.equal(env.SMELTER_WORKER_MODULE, WORKERS);
    assert.equal(JSON.parse(env.SMELTER_TASK!).attemptId, e.attemptId);
    const specText = JSON.stringify(job);
    for (const secret of [s3.accessKeyId, s3.secretAccessKey, "AWS_SECRET_ACCESS_KEY"]) assert.ok(!specText.includes(secret), `${secret} is not in the Job`);
    const o = await within(handle.result, 20_000, "outcome");
    assert.equal(o.status, "succeeded", JSON.stringify(o).slice(0, 400));
    assert.match(runtimeId, new RegExp(`^${job.metadata!.name}-[a-z0-9]{5}$`), "the runtime id is the pod's name");
    await waitFor("the finished Job deleted", 20_000, async () => ((await ourJobs()).some((j) => j.metadata?.name === job.metadata?.name) ? undefined : true));
  });

  it("cancel: deletes the Job in the foreground and confirms it is gone, the process stopped", async () => {
    const r = launch(backend, "cooperativeHang");
    await within(r.running, 20_000, "onRunning");
    const podName = r.runtimeId();
    const pid = agent!.running().get(`${NS}/${podName}`);
    assert.ok(pid, "the pod's process runs");
    const jobName = podName.replace(/-[a-z0-9]{5}$/, "");
    assert.equal(await within(r.handle.kill("no longer needed"), 20_000, "kill"), "stopped");
    await assert.rejects(batch.readNamespacedJob({ name: jobName, namespace: NS }), (err: { code?: number }) => err.code === 404, "the Job is gone when kill says stopped");
    assert.equal(isAlive(pid), false, "the process was stopped");
    const o = await r.outcome;
    assert.ok(o.status === "failed" && o.error.type === "Cancelled" && /no longer needed/.test(o.error.message));
  });

  it("a crash's failure carries the pod log's last lines, read back through pods/log", async () => {
    const o = await runToEnd(backend, "crash");
    assert.ok(o.status === "failed" && o.error.type === "TaskCrashed", JSON.stringify(o).slice(0, 400));
    assert.match(o.error.message, /exited with code 3 .*; last log lines of pod smelter-[a-z0-9-]+:\n(  .*\n)* {2}about to exit with code 3$/s);
  });

  it("a kill of an attempt still queued behind the concurrency limit is stopped at once, no Job created", async () => {
    const b = backendWith({ concurrency: 1 });
    const first = launch(b, "cooperativeHang");
    const queued = launch(b, "echo", 1);
    await within(first.running, 20_000, "onRunning");
    assert.equal(await within(queued.handle.kill("not needed"), 2000, "kill of a queued attempt"), "stopped");
    const o = await queued.outcome;
    assert.ok(o.status === "failed" && o.error.type === "Cancelled");
    assert.equal((await ourJobs()).length, 1, "only the running attempt has a Job");
    assert.equal(await within(first.handle.kill("done"), 20_000, "kill"), "stopped");
    await b.close?.();
  });

  it("a kill whose deletion cannot complete (a finalizer holds the pod) is abandoned after killTimeoutMs", async () => {
    const b = backendWith({ killTimeoutMs: 1500 });
    const r = launch(b, "cooperativeHang");
    await within(r.running, 20_000, "onRunning");
    const podName = r.runtimeId();
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    await core.patchNamespacedPod({ name: podName, namespace: NS, body: { metadata: { finalizers: ["smelter.dev/test-hold"] } } }, merge);
    assert.equal(await within(r.handle.kill("test"), 20_000, "kill"), "abandoned");
    await core.patchNamespacedPod({ name: podName, namespace: NS, body: { metadata: { finalizers: null } } }, merge);
    await b.close?.();
  });

  it("a pod that cannot be scheduled is no capacity, its Job deleted", async () => {
    const b = backendWith({ cpu: "64", unschedulableMs: 1500, noCapacityRetryMs: 750 });
    const o = await runToEnd(b, "echo", 1);
    assert.equal(o.status, "no-capacity", JSON.stringify(o).slice(0, 400));
    const n = o as Extract<AttemptOutcome, { status: "no-capacity" }>;
    assert.match(n.reason, /could not be scheduled .* for 1500 ms: .*Insufficient cpu/);
    assert.equal(n.retryAfterMs, 750);
    assert.deepEqual(o.events.map((e) => e.kind), ["outcome"], "it never ran");
    await waitFor("its Job deleted", 20_000, async () => ((await ourJobs()).length === 0 ? true : undefined));
    await b.close?.();
  });

  it("a pod that never starts fails with StartTimeout, naming what it waits for", async () => {
    const b = backendWith({ startTimeoutMs: 2000 });
    agent!.hold(true);
    try {
      const o = await runToEnd(b, "echo", 1);
      assert.ok(o.status === "failed" && o.error.type === "StartTimeout" && !o.error.nonRetryable, JSON.stringify(o).slice(0, 400));
      assert.match(o.error.message, /did not start within 2000 ms .*ContainerCreating/);
    } finally {
      agent!.hold(false);
      await b.close?.();
    }
  });

  it("a container over its memory limit is OOMKilled: OutOfMemory, not retried by default", async () => {
    const b = backendWith({ memory: "300Mi" });
    const o = await runToEnd(b, "oom");
    assert.ok(o.status === "failed" && o.error.type === "OutOfMemory", JSON.stringify(o).slice(0, 500));
    assert.equal(o.error.nonRetryable, true);
    assert.match(o.error.message, /was OOMKilled: it used more than its 300Mi memory limit \(exit code 137\)/);
    await b.close?.();
    const retrying = backendWith({ memory: "300Mi", retryOutOfMemory: true });
    const again = await runToEnd(retrying, "oom");
    assert.ok(again.status === "failed" && again.error.type === "OutOfMemory" && !again.error.nonRetryable);
    await retrying.close?.();
  });

  it("the attempt's deadline ends it as a TaskTimeout: the entry's own, or the Job's activeDeadlineSeconds as a backstop", async () => {
    const e = { ...envelope("cooperativeHang", null), deadline: Date.now() + 2500 };
    const handle = backend.launch(e, { onRunning: () => {}, onLog: () => {}, onHeartbeat: () => {} });
    const o = await within(handle.result, 30_000, "outcome");
    assert.ok(o.status === "failed" && o.error.type === "TaskTimeout" && !o.error.nonRetryable, JSON.stringify(o).slice(0, 400));
    // A container that ignores the deadline (not Smelter's entry): the Job controller ends it.
    const deaf = backendWith({ command: [process.execPath, "-e", "setTimeout(() => {}, 600000)"] });
    const d = { ...envelope("echo", null), deadline: Date.now() + 2000 };
    const late = await within(deaf.launch(d, { onRunning: () => {}, onLog: () => {}, onHeartbeat: () => {} }).result, 30_000, "outcome");
    assert.ok(late.status === "failed" && late.error.type === "TaskTimeout", JSON.stringify(late).slice(0, 400));
    assert.match(late.error.message, /reached its deadline \(the Job's activeDeadlineSeconds.*\): .*active longer than specified deadline/i);
    await deaf.close?.();
  });

  it("checks the API server, the credentials, the namespace and RBAC, in Smelter's words", async () => {
    await backend.check();
    const missing = backendWith({ namespace: "no-such-ns" });
    await assert.rejects(missing.check(), /namespace "no-such-ns" not found .*create it/);
    const o = await runToEnd(missing, "echo", 1);
    assert.ok(o.status === "failed" && o.error.type === "ConfigError" && /not found/.test(o.error.message), JSON.stringify(o).slice(0, 300));
    await missing.close?.();

    const nowhere = new KubeConfig();
    nowhere.loadFromOptions({ clusters: [{ name: "x", server: "https://127.0.0.1:9", skipTLSVerify: true }], users: [{ name: "u", token: "t" }], contexts: [{ name: "x", cluster: "x", user: "u" }], currentContext: "x" });
    const unreachable = backendWith({ kubeConfig: nowhere });
    await assert.rejects(unreachable.check(), /could not reach the Kubernetes API server at https:\/\/127\.0\.0\.1:9/);
    const u = await runToEnd(unreachable, "echo", 1);
    assert.ok(u.status === "failed" && u.error.type === "KubernetesUnreachable" && !u.error.nonRetryable, JSON.stringify(u).slice(0, 300));
    await unreachable.close?.();

    assert.throws(() => backendWith({ memory: "lots" }), /memory must be a Kubernetes memory quantity/);
    assert.throws(() => backendWith({ image: "" }), /image must not be empty/);
    assert.throws(() => backendWith({ namespace: "Bad_NS" }), /namespace must be a Kubernetes name/);
  });

  it("the generated Role is enough to run an attempt; without it the API server forbids, and the error says what to bind", async () => {
    const rbacApi = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "smelter-manager" } } });
    const token = (await core.createNamespacedServiceAccountToken({ name: "smelter-manager", namespace: NS, body: { spec: { audiences: ["https://kubernetes.default.svc"], expirationSeconds: 3600 } } })).status?.token;
    assert.ok(token);
    const asManager = new KubeConfig();
    asManager.loadFromOptions({ clusters: [{ name: "c", server: cluster!.server, skipTLSVerify: true }], users: [{ name: "m", token }], contexts: [{ name: "c", cluster: "c", user: "m" }], currentContext: "c" });
    const forbidden = backendWith({ kubeConfig: asManager });
    await assert.rejects(forbidden.check(), /forbids it to list Jobs .*403 Forbidden.*bind the Role/);
    await forbidden.close?.();

    const rbac = kubernetesRbac({ namespace: NS, manager: { kind: "ServiceAccount", name: "smelter-manager" } });
    await rbacApi.createNamespacedRole({ namespace: NS, body: rbac.role as never });
    await rbacApi.createNamespacedRoleBinding({ namespace: NS, body: rbac.roleBinding as never });
    const allowed = backendWith({ kubeConfig: asManager });
    await waitFor("the RoleBinding to take effect", 10_000, async () => allowed.check().then(() => true, () => undefined));
    const ok = await runToEnd(allowed, "echo", "least privilege");
    assert.equal(ok.status, "succeeded");
    assert.deepEqual(ok.events.find((e) => e.kind === "running")?.capacity, { vcpu: 0.5, memoryGb: 1 }, "the pod's requests (500m, 1Gi), which the cost estimate prices");
    const r = launch(allowed, "cooperativeHang");
    await within(r.running, 20_000, "onRunning");
    assert.equal(await within(r.handle.kill("test"), 20_000, "kill"), "stopped", "the Role allows the kill");
    await allowed.close?.();
  });

  it("generates the workers' S3 policy and estimates cost (0 unless priced)", () => {
    const p = kubernetesWorkerIamPolicy({ work: "s3://jobs/_smelter/", inputs: ["s3://data/bdb/"] });
    assert.deepEqual(p.Statement.map((s) => s.Sid), ["ReadInputs", "WorkPrefix", "List0", "List1"]);
    assert.deepEqual(p.Statement[1]!.Resource, ["arn:aws:s3:::jobs/_smelter/*"]);
    // The job report: a kubernetes run is priced at $0, or at the --prices table's kubernetes section.
    const attempt = { launchedAt: 0, runningAt: 2000, endedAt: 10_000, outcome: "won", counters: {} } as unknown as TimelineAttempt;
    assert.equal(placeOf("kubernetes"), "kubernetes");
    assert.equal(estimateCost([attempt], "kubernetes", DEFAULT_PRICES).total, 0);
    const table = withOverrides({ kubernetes: { vcpuSecond: 0.00001, gbSecond: 0.000001, vcpu: 0.5, memoryGb: 1 } });
    const billed = estimateCost([attempt], "kubernetes", table);
    assert.ok(Math.abs(billed.total - (10 * 0.5 * 0.00001 + 10 * 1 * 0.000001)) < 1e-12, String(billed.total));
    // An attempt whose running event told its pod's requests (--kube-cpu 2 --kube-memory 4Gi) is priced at them, not at the table's.
    const sized = { ...attempt, capacity: podCapacity({ cpu: "2", memory: "4Gi" }) } as TimelineAttempt;
    const atRequests = estimateCost([sized], "kubernetes", table);
    assert.ok(Math.abs(atRequests.total - (10 * 2 * 0.00001 + 10 * 4 * 0.000001)) < 1e-12, String(atRequests.total));
    assert.deepEqual(podCapacity({ cpu: "250m", memory: "512Mi" }), { vcpu: 0.25, memoryGb: 0.5 });
  });

  it("with the live channel: heartbeats arrive while the pod runs, and a silent worker is lost to the heartbeat timeout, its Job deleted", async () => {
    const b = backendWith({ channel: { transport: "http", flushMs: 100 } });
    const manager = new Manager({ backend: b });
    const events: SmelterEvent[] = [];
    try {
      const policy = { retry: { maxAttempts: 1 }, timeouts: { heartbeatTimeout: 6000 } };
      const beatingJob = manager.job();
      const silentJob = manager.job();
      beatingJob.events.on((e) => events.push(e));
      silentJob.events.on((e) => events.push(e));
      const beating = beatingJob.stage({ worker: "heartbeats", policy });
      beating.push({ count: 20, gapMs: 400 }); // 8 s, longer than the timeout: only live heartbeats keep it alive
      beating.close();
      const silent = silentJob.stage({ worker: "cooperativeHang", policy });
      silent.push(null);
      silent.close();
      const [beatingDone, silentDone] = await Promise.allSettled([within(beatingJob.wait(), 40_000, "the beating job"), within(silentJob.wait(), 40_000, "the silent job")]);
      assert.equal(beatingDone.status, "fulfilled", `the beating attempt succeeded: ${String((beatingDone as PromiseRejectedResult).reason)}`);
      assert.equal(silentDone.status, "rejected");
      const failed = events.filter((e): e is Extract<SmelterEvent, { type: "attempt-failed" }> => e.type === "attempt-failed");
      assert.equal(failed.length, 1, JSON.stringify(failed.map((f) => f.error.message)));
      assert.equal(failed[0]!.error.type, "AttemptLost", failed[0]!.error.message);
      assert.match(failed[0]!.error.message, /sent no heartbeat or log for [\d.]+ ms \(heartbeatTimeout 6000 ms\)/);
      await waitFor("the lost attempt's Job deleted", 20_000, async () => ((await ourJobs()).length === 0 ? true : undefined));
    } finally {
      await manager.close();
      await b.close?.();
    }
  });

  it("leaves no Job and no object behind", async () => {
    await waitFor("no Jobs left", 30_000, async () => ((await ourJobs()).length === 0 ? true : undefined));
    assert.deepEqual(await leftovers(), []);
    assert.deepEqual(agent!.errors, []);
  });
});
