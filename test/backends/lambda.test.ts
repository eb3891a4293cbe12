/**
 * The lambda backend against the real AWS Lambda Runtime Interface Emulator (through the test
 * front, test/tooling/lambda-front.ts, which gives real Lambda's response shapes and 429s): the
 * function is Smelter's own bootstrap and handler (bin/smelter-lambda-bootstrap.js, src/lambda.ts)
 * running the test workers, with payloads and results over the limit through the embedded S3 server.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { lambdaBackend, type LambdaBackendOptions } from "../../src/backends/lambda/backend.js";
import type { AttemptOutcome } from "../../src/backends/contract.js";
import { systemContext } from "../../src/job/runtime-context.js";
import { urlObjects } from "../../src/lambda.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { startLambdaFront, type LambdaFront } from "../tooling/lambda-front.js";
import { bigString } from "../fixtures/workers.js";
import { launch, runBackendConformance, runToEnd, within } from "./conformance.js";

const bootstrap = fileURLToPath(new URL("../../../bin/smelter-lambda-bootstrap.js", import.meta.url));
const workers = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));

const s3: S3Server = await startS3Server({ buckets: ["smelter"] });
Object.assign(process.env, s3.env); // the manager side's store access (the function gets its own, below)
const startFront = (o: { concurrency: number; timeoutSeconds?: number; env?: Record<string, string> }): Promise<LambdaFront> =>
  startLambdaFront({ command: [process.execPath, bootstrap], concurrency: o.concurrency, timeoutSeconds: o.timeoutSeconds ?? 20, env: { ...s3.env, SMELTER_WORKER_MODULE: workers, ...o.env } });
const main = await startFront({ concurrency: 2 });
after(async () => {
  await main.stop();
  await s3.stop();
});

const STORE = "s3://smelter/lambda-test/";
const backendOn = (front: LambdaFront, o: Partial<LambdaBackendOptions> = {}) =>
  lambdaBackend({ functionName: front.functionName, endpoint: front.endpoint, region: "us-east-1", concurrency: 2, store: STORE, objects: urlObjects, ...o });

async function leftovers(): Promise<string[]> {
  const { store } = await (await import("../../src/storage/url.js")).openStore("s3://smelter/");
  const keys: string[] = [];
  for await (const o of store.list("lambda-test/")) keys.push(o.key);
  return keys;
}

runBackendConformance("lambda", () => backendOn(main), {
  crash: true,
  killHung: "a Lambda invocation cannot be stopped: kill abandons it (tested below)",
  stdio: "a function's stdout and stderr go to its CloudWatch logs, not back to the caller (ctx.log lines do)",
  warm: "each invocation has its own request id as runtime id; warm starts say cold: false (tested below)",
  stoppable: "a Lambda invocation cannot be stopped: kill says abandoned (tested below)",
});

describe("lambda backend", () => {
  let backend: ReturnType<typeof backendOn>;
  before(() => {
    backend = backendOn(main);
  });
  after(() => backend.close?.());

  it("says cold for a new execution environment and not for a warm one", async () => {
    const first = await runToEnd(backend, "echo", 1);
    const second = await runToEnd(backend, "echo", 2);
    const colds = [first, second].map((r) => (r.events[0] as { cold?: boolean }).cold);
    assert.equal(colds[1], false, "the second of two sequential invocations reuses a warm environment");
    assert.notEqual(first.runtimeId, second.runtimeId, "each invocation's runtime id is its request id");
    assert.match(second.runtimeId, /^[0-9a-f-]{36}$/);
  });

  it("passes an input over the 6 MB request limit and a result over the response limit through the store, leaving nothing", async () => {
    const big = bigString(7);
    const o = await runToEnd(backend, "echo", big);
    assert.equal(o.status, "succeeded");
    assert.ok((o as Extract<AttemptOutcome, { status: "succeeded" }>).output === big, "the 7 MB input came back intact");
    assert.deepEqual(await leftovers(), [], "staged payloads and results are deleted");
  });

  it("with the job's resultUrl, returns outputUrl for the scheduler to read", async () => {
    const resultUrl = `${STORE}jres/results/a1.json`;
    const handle = backend.launch({ attemptId: "jres-s01-t00000-a1", jobId: "jres", stage: 1, task: 0, attempt: 1, worker: "bigOutput", input: { mb: 7 }, resultUrl }, { onRunning: () => {}, onLog: () => {}, onHeartbeat: () => {} });
    const o = await within(handle.result, 20_000, "big output");
    assert.ok(o.status === "succeeded" && o.outputUrl === resultUrl && o.output === undefined, JSON.stringify(o).slice(0, 200));
    assert.ok((await urlObjects.read(resultUrl)) === JSON.stringify(bigString(7)));
    await urlObjects.delete(resultUrl);
  });

  it("refuses a function that is not there, naming it", async () => {
    const wrong = lambdaBackend({ functionName: "no-such-function", endpoint: main.endpoint, region: "us-east-1" });
    const o = await runToEnd(wrong, "echo", 1);
    assert.ok(o.status === "failed" && o.error.type === "ConfigError" && o.error.nonRetryable, JSON.stringify(o).slice(0, 300));
    assert.match(o.error.message, /Lambda function no-such-function at http:\/\/127\.0\.0\.1:\d+ does not exist/);
    await assert.rejects(wrong.check(), /no-such-function at http:\/\/127\.0\.0\.1:\d+ does not exist/);
    assert.deepEqual((await backend.check()).workers.includes("echo"), true);
    await wrong.close?.();
  });

  it("says an endpoint it cannot reach is unreachable (retryable)", async () => {
    const nowhere = lambdaBackend({ functionName: "smelter", endpoint: "http://127.0.0.1:9", region: "us-east-1" });
    const o = await runToEnd(nowhere, "echo", 1);
    assert.ok(o.status === "failed" && o.error.type === "LambdaUnreachable" && !o.error.nonRetryable, JSON.stringify(o).slice(0, 300));
    assert.match(o.error.message, /could not reach Lambda function smelter at http:\/\/127\.0\.0\.1:9/);
    await nowhere.close?.();
  });

  it("never puts credentials in a payload, a reply or a log line", async () => {
    const { LambdaClient } = await import("@aws-sdk/client-lambda");
    const client = new LambdaClient({ endpoint: main.endpoint, region: "us-east-1", maxAttempts: 1 });
    const sent: string[] = [];
    client.middlewareStack.add((next) => async (args) => {
      const body = (args.request as { body?: unknown }).body;
      sent.push(typeof body === "string" ? body : Buffer.from(body as Uint8Array).toString("utf8"));
      return next(args);
    }, { step: "finalizeRequest", name: "recordPayload" });
    const spy = lambdaBackend({ functionName: main.functionName, client, store: STORE, objects: urlObjects });
    const o = await runToEnd(spy, "logs", { console: true });
    assert.equal(o.status, "succeeded");
    const seen = [...sent, JSON.stringify(o)].join("\n");
    assert.ok(sent.length === 1 && sent[0]!.includes('"worker":"logs"'), "the payload was recorded");
    for (const secret of [s3.accessKeyId, s3.secretAccessKey, "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]) assert.ok(!seen.includes(secret), `${secret} is not in what crossed the wire`);
    await spy.close?.();
    client.destroy();
  });

  it("refuses bad options with clear errors", () => {
    assert.throws(() => lambdaBackend({ functionName: "" }), /functionName/);
    assert.throws(() => lambdaBackend({ functionName: "f", endpoint: "not a url" }), /endpoint must be a URL/);
    assert.throws(() => lambdaBackend({ functionName: "f", store: "s3://b/p/" }), /needs objects/);
  });
});

describe("lambda backend: throttling, timeouts, crashes, abandoned kills", () => {
  let front: LambdaFront;
  before(async () => {
    front = await startFront({ concurrency: 1, timeoutSeconds: 3, env: { NODE_OPTIONS: "--max-old-space-size=64" } });
  });
  after(() => front.stop());

  it("a 429 is no capacity, lowers maxConcurrency and tells the host", async () => {
    const backend = backendOn(front, { concurrency: 3, throttleRetryMs: 250 });
    let changes = 0;
    backend.attach?.({ context: systemContext(), capacityChanged: () => changes++ });
    try {
      const runs = [launch(backend, "sleep", { ms: 600 }), launch(backend, "sleep", { ms: 600 }), launch(backend, "sleep", { ms: 600 })];
      const outcomes = await Promise.all(runs.map((r) => r.outcome));
      const statuses = outcomes.map((o) => o.status).sort();
      assert.deepEqual(statuses, ["no-capacity", "no-capacity", "succeeded"], JSON.stringify(outcomes).slice(0, 1500));
      const refused = outcomes.find((o) => o.status === "no-capacity") as Extract<AttemptOutcome, { status: "no-capacity" }>;
      assert.match(refused.reason, /throttled \(TooManyRequestsException, ReservedFunctionConcurrentInvocationLimitExceeded\)/);
      assert.equal(refused.retryAfterMs, 250);
      assert.ok(refused.stats, "a no-capacity outcome carries stats");
      assert.ok(changes >= 1 && (backend.maxConcurrency ?? 0) < 3, `maxConcurrency ${backend.maxConcurrency} after ${changes} changes`);
      assert.ok(front.stats.throttled >= 2);
      const after = await runToEnd(backend, "echo", "ok");
      assert.equal(after.status, "succeeded");
    } finally {
      await backend.close?.();
    }
  });

  it("a function timeout is a retryable TaskTimeout naming the function", async () => {
    const backend = backendOn(front);
    try {
      const o = await runToEnd(backend, "hang");
      assert.ok(o.status === "failed", JSON.stringify(o).slice(0, 300));
      assert.equal(o.error.type, "TaskTimeout", o.error.message);
      assert.equal(o.error.nonRetryable, false);
      assert.match(o.error.message, /Lambda function smelter .*running attempt .* reached the function's timeout \(Task timed out after 3\.\d+ seconds\)/);
      assert.ok(o.stats.endedAt >= o.stats.startedAt);
      // A worker that honours its signal is stopped just before the timeout: the outcome then has the attempt's own stats.
      const coop = await runToEnd(backend, "cooperativeHang");
      assert.ok(coop.status === "failed", JSON.stringify(coop).slice(0, 300));
      assert.equal(coop.error.type, "TaskTimeout", coop.error.message);
      assert.equal(coop.error.nonRetryable, false);
      assert.match(coop.error.message, /worker "cooperativeHang"\) reached the Lambda function's timeout/);
      assert.equal(typeof coop.stats.pid, "number");
    } finally {
      await backend.close?.();
    }
  });

  it("a process that runs out of heap is OutOfMemory; a crash is TaskCrashed; both retryable", async () => {
    const backend = backendOn(front);
    try {
      const oom = await runToEnd(backend, "oom");
      assert.ok(oom.status === "failed", JSON.stringify(oom).slice(0, 300));
      assert.equal(oom.error.type, "OutOfMemory");
      assert.equal(oom.error.nonRetryable, false);
      const crash = await runToEnd(backend, "crash");
      assert.ok(crash.status === "failed");
      assert.equal(crash.error.type, "TaskCrashed");
      assert.equal(crash.error.nonRetryable, false);
      assert.equal((await runToEnd(backend, "echo", "alive")).status, "succeeded");
    } finally {
      await backend.close?.();
    }
  });

  it("a kill abandons the invocation: Cancelled at once, the late result is never taken nor left behind", async () => {
    const backend = backendOn(front, { concurrency: 1 });
    const invocationsBefore = front.stats.invocations;
    try {
      const r = launch(backend, "bigOutput", { mb: 7 });
      const queued = launch(backend, "echo", "never sent");
      // The invocation is under way once the front counts it.
      for (let i = 0; i < 200 && front.stats.active === 0; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(front.stats.active, 1);
      assert.equal(await within(queued.handle.kill("not needed"), 1000, "kill of a queued attempt"), "stopped", "an attempt still in the backend's queue is stopped: it is never sent");
      assert.equal(await within(r.handle.kill("speculative sibling won"), 1000, "kill"), "abandoned");
      const o = await r.outcome;
      assert.ok(o.status === "failed" && o.error.type === "Cancelled", JSON.stringify(o).slice(0, 300));
      assert.match(o.error.message, /speculative sibling won.*runs to its end/);
      for (let i = 0; i < 500 && front.stats.active > 0; i++) await new Promise((res) => setTimeout(res, 10));
      await new Promise((res) => setTimeout(res, 200)); // the late response's clean-up
      assert.deepEqual(r.events.map((e) => e.kind), ["outcome"], "no onRunning, logs or heartbeats from the late response");
      assert.ok((await queued.outcome).status === "failed");
      assert.equal(front.stats.invocations, invocationsBefore + 1, "the queued attempt was never invoked");
      assert.equal((await r.handle.result).status, "failed");
      assert.deepEqual(await leftovers(), [], "the late result written to the store was deleted");
    } finally {
      await backend.close?.();
    }
  });
});

describe("lambda backend: a function that cannot load its worker module", () => {
  it("is a non-retryable ConfigError naming the module (a FunctionError)", async () => {
    const front = await startFront({ concurrency: 1, env: { SMELTER_WORKER_MODULE: "/nowhere/workers.js" } });
    const backend = backendOn(front);
    try {
      const o = await runToEnd(backend, "echo", 1);
      assert.ok(o.status === "failed", JSON.stringify(o).slice(0, 300));
      assert.equal(o.error.type, "ConfigError");
      assert.equal(o.error.nonRetryable, true);
      assert.match(o.error.message, /could not import the worker module file:\/\/\/nowhere\/workers\.js \(SMELTER_WORKER_MODULE\)/);
      assert.ok(front.stats.functionErrors >= 1);
    } finally {
      await backend.close?.();
      await front.stop();
    }
  });
});

describe("lambda IAM policies", () => {
  it("grants the function and the manager only the job's prefixes and the function", async () => {
    const { lambdaIamPolicies } = await import("../../src/backends/lambda/iam.js");
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:smelter";
    const p = lambdaIamPolicies({ functionArn: arn, work: "s3://jobs/_smelter/", inputs: ["s3://data/bdb/"] });
    const actions = (doc: typeof p.manager) => doc.Statement.flatMap((s) => s.Action.map((a) => `${a} ${s.Resource.join(",")}`));
    assert.deepEqual(actions(p.functionRole).sort(), [
      "logs:CreateLogGroup arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/smelter:*",
      "logs:CreateLogStream arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/smelter:*",
      "logs:PutLogEvents arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/smelter:*",
      "s3:AbortMultipartUpload arn:aws:s3:::jobs/_smelter/*",
      "s3:DeleteObject arn:aws:s3:::jobs/_smelter/*",
      "s3:GetObject arn:aws:s3:::data/bdb/*",
      "s3:GetObject arn:aws:s3:::jobs/_smelter/*",
      "s3:ListBucket arn:aws:s3:::data",
      "s3:ListBucket arn:aws:s3:::jobs",
      "s3:PutObject arn:aws:s3:::jobs/_smelter/*",
    ]);
    assert.ok(actions(p.manager).includes(`lambda:InvokeFunction ${arn},${arn}:*`));
    assert.ok(!JSON.stringify(p).includes('"*"'), "no wildcard resource");
    assert.throws(() => lambdaIamPolicies({ functionArn: arn, work: "/tmp/x" }), /not an s3:\/\/bucket\/prefix URL/);
  });
});
