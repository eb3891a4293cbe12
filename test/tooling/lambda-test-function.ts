/**
 * The Lambda function the front's tests run under the Runtime Interface Emulator: the bootstrap
 * (`node dist/test/tooling/lambda-test-function.js`) on the runtime loop, with a handler whose
 * behaviour the event chooses: echo, throw, sleep, exit (a crash), or a result of N bytes.
 */
import { runRuntimeLoop, type LambdaHandler } from "./lambda-runtime.js";

const handler: LambdaHandler = async (event, context) => {
  const e = (event ?? {}) as { action?: string; value?: unknown; ms?: number; code?: number; bytes?: number; env?: string; message?: string };
  switch (e.action) {
    case "throw":
      throw new RangeError(e.message ?? "the test function threw");
    case "sleep":
      await new Promise((r) => setTimeout(r, e.ms ?? 0));
      return { slept: e.ms, requestId: context.awsRequestId, pid: process.pid };
    case "exit":
      process.exit(e.code ?? 1);
    // falls through (never reached)
    case "bytes":
      return "x".repeat(e.bytes ?? 0);
    default:
      console.log(`echo ${JSON.stringify(e.value)}`);
      return {
        echo: e.value,
        requestId: context.awsRequestId,
        remainingMs: context.getRemainingTimeInMillis(),
        pid: process.pid,
        ...(e.env ? { env: process.env[e.env] ?? null } : {}),
      };
  }
};

await runRuntimeLoop(async () => handler);
