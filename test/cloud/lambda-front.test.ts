/**
 * The local Lambda endpoint (test tooling: the real Runtime Interface Emulator behind the front in
 * test/tooling/lambda-front.ts) seen through `@aws-sdk/client-lambda`, as the Lambda backend will
 * see it: results, function errors, timeouts, crashes, throttling past the reserved concurrency,
 * concurrent invocations in separate environments, the 6 MB limits. Builds aws-lambda-rie first
 * when missing (scripts/install-lambda-rie.sh); fails with the reason when it cannot.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { InvokeCommand, LambdaClient, TooManyRequestsException, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { startLambdaFront, PAYLOAD_LIMIT_BYTES, type LambdaFront } from "../tooling/lambda-front.js";
import { isAlive, waitFor } from "../tooling/processes.js";

const BOOTSTRAP = [process.execPath, fileURLToPath(new URL("../tooling/lambda-test-function.js", import.meta.url))];

let front: LambdaFront;
let client: LambdaClient;
before(
  async () => {
    front = await startLambdaFront({ command: BOOTSTRAP, concurrency: 2, timeoutSeconds: 2, env: { SMELTER_TEST_VALUE: "from-the-function-config" } });
    client = new LambdaClient({ endpoint: front.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });
  },
  { timeout: 6 * 60_000 },
);
after(async () => {
  client?.destroy();
  await front?.stop();
});

async function invoke(payload: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}): Promise<InvokeCommandOutput & { json: any }> {
  const out = await client.send(new InvokeCommand({ FunctionName: front.functionName, Payload: JSON.stringify(payload), ...extra }));
  const text = new TextDecoder().decode(out.Payload);
  return { ...out, json: text === "" ? undefined : JSON.parse(text) };
}

describe("lambda front over aws-lambda-rie, through the SDK", () => {
  it("returns the function's result, with its environment and the tail of its log", async () => {
    const out = await invoke({ value: { a: 1 }, env: "SMELTER_TEST_VALUE" }, { LogType: "Tail" });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(out.json.echo, { a: 1 });
    assert.equal(out.json.env, "from-the-function-config");
    assert.ok(out.json.remainingMs > 0 && out.json.remainingMs <= 2000, `remaining time within the 2 s timeout: ${out.json.remainingMs}`);
    const log = Buffer.from(out.LogResult ?? "", "base64").toString();
    assert.match(log, new RegExp(`START RequestId: ${out.json.requestId}`));
    assert.match(log, /echo \{"a":1\}/);
    assert.match(log, /REPORT RequestId: .*Memory Size: 1024 MB/);
  });

  it("a thrown error is FunctionError Unhandled with the runtime's error body, and the environment stays warm", async () => {
    const first = await invoke({ value: "warm" });
    const coldStarts = front.stats.coldStarts;
    const failed = await invoke({ action: "throw", message: "bad input row 7" });
    assert.equal(failed.StatusCode, 200);
    assert.equal(failed.FunctionError, "Unhandled");
    assert.equal(failed.json.errorType, "RangeError");
    assert.equal(failed.json.errorMessage, "bad input row 7");
    assert.ok(Array.isArray(failed.json.stackTrace));
    const after = await invoke({ value: "again" });
    assert.equal(after.FunctionError, undefined);
    assert.equal(after.json.pid, first.json.pid, "the same bootstrap process served all three");
    assert.equal(front.stats.coldStarts, coldStarts);
  });

  it("a timeout is FunctionError Unhandled (Sandbox.Timedout) and its environment is thrown away", async () => {
    const { pid } = (await invoke({ value: "warm" })).json;
    const timedOut = await invoke({ action: "sleep", ms: 10_000 });
    assert.equal(timedOut.FunctionError, "Unhandled");
    assert.equal(timedOut.json.errorType, "Sandbox.Timedout");
    assert.match(timedOut.json.errorMessage, /Task timed out after 2\.00 seconds/);
    assert.equal(isAlive(pid), false, "the timed-out bootstrap process is gone");
    const next = await invoke({ action: "sleep", ms: 1 });
    assert.equal(next.FunctionError, undefined);
    assert.notEqual(next.json.pid, pid);
  });

  it("a crash of the bootstrap is FunctionError Unhandled (Runtime.ExitError) with the exit status", async () => {
    const { pid } = (await invoke({ value: "warm" })).json;
    const crashed = await invoke({ action: "exit", code: 7 });
    assert.equal(crashed.StatusCode, 200);
    assert.equal(crashed.FunctionError, "Unhandled");
    assert.equal(crashed.json.errorType, "Runtime.ExitError");
    assert.match(crashed.json.errorMessage, /exit status 7/);
    assert.equal(isAlive(pid), false);
    const next = await invoke({ value: "after a crash" });
    assert.equal(next.json.echo, "after a crash");
    assert.notEqual(next.json.pid, pid);
  });

  it("two concurrent invocations run in two environments at once", async () => {
    const [a, b] = await Promise.all([invoke({ action: "sleep", ms: 500 }), invoke({ action: "sleep", ms: 500 })]);
    assert.equal(a.FunctionError, undefined);
    assert.equal(b.FunctionError, undefined);
    assert.notEqual(a.json.pid, b.json.pid, "each invocation had its own bootstrap process");
    assert.notEqual(a.json.requestId, b.json.requestId);
    assert.equal(front.stats.maxActive, 2);
  });

  it("past the reserved concurrency: 429 TooManyRequestsException, ReservedFunctionConcurrentInvocationLimitExceeded", async () => {
    const throttledBefore = front.stats.throttled;
    const running = [invoke({ action: "sleep", ms: 1500 }), invoke({ action: "sleep", ms: 1500 })];
    await waitFor("both slots busy", 10_000, () => (front.stats.active === 2 ? true : undefined));
    await assert.rejects(invoke({ value: "one too many" }), (err: unknown) => {
      assert.ok(err instanceof TooManyRequestsException, `TooManyRequestsException, got ${String(err)}`);
      assert.equal(err.Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
      assert.equal(err.$metadata.httpStatusCode, 429);
      return true;
    });
    assert.equal(front.stats.throttled, throttledBefore + 1);
    for (const r of await Promise.all(running)) assert.equal(r.FunctionError, undefined);
    assert.equal((await invoke({ value: "room again" })).json.echo, "room again");
  });

  it("a lowered concurrency throttles sooner (PutFunctionConcurrency)", async () => {
    front.setConcurrency(1);
    try {
      const running = invoke({ action: "sleep", ms: 800 });
      await waitFor("one slot busy", 10_000, () => (front.stats.active === 1 ? true : undefined));
      await assert.rejects(invoke({ value: "no" }), { name: "TooManyRequestsException" });
      await running;
    } finally {
      front.setConcurrency(2);
    }
  });

  it("requests over 6 MB are refused (413) and results over 6 MB are a function error", async () => {
    await assert.rejects(invoke({ value: "x".repeat(PAYLOAD_LIMIT_BYTES) }), { name: "RequestTooLargeException" });
    const big = await invoke({ action: "bytes", bytes: PAYLOAD_LIMIT_BYTES + 1 });
    assert.equal(big.FunctionError, "Unhandled");
    assert.equal(big.json.errorType, "Function.ResponseSizeTooLarge");
  });

  it("an invocation whose caller went away runs to its end and holds its slot (a Lambda cannot be stopped)", async () => {
    const controller = new AbortController();
    const abandoned = client.send(new InvokeCommand({ FunctionName: front.functionName, Payload: JSON.stringify({ action: "sleep", ms: 1500 }) }), { abortSignal: controller.signal });
    await waitFor("the invocation running", 10_000, () => (front.stats.active === 1 ? true : undefined));
    controller.abort();
    await assert.rejects(abandoned, { name: "AbortError" });
    assert.equal(front.stats.active, 1, "still running after its caller left");
    await waitFor("the abandoned invocation to end", 10_000, () => (front.stats.active === 0 ? true : undefined));
  });

  it("an unknown function is ResourceNotFoundException", async () => {
    await assert.rejects(invoke({}, { FunctionName: "not-this-one" }), { name: "ResourceNotFoundException" });
  });
});
