/**
 * `smelter/lambda`: Smelter's AWS Lambda handler, the far side of the `lambda` backend
 * (src/backends/lambda/backend.ts). Deploy a function whose code bundles your worker module
 * (the one that calls `defineWorker`), Smelter and its dependencies, with:
 * - the bootstrap `bin/smelter-lambda-bootstrap.js` (a custom runtime, `provided.al2023`, or any
 *   Node runtime with handler `node_modules/smelter/dist/src/lambda.handler`);
 * - `SMELTER_WORKER_MODULE`: the path (relative to the function's root, `LAMBDA_TASK_ROOT`) or
 *   `file://` URL of your worker module, imported once per execution environment;
 * - an execution role that may read and write the job's work prefix (payloads and results over
 *   Lambda's 6 MB limit go through it); credentials come from that role, never from a payload.
 * Each invocation runs one attempt through the same task runtime as every other backend
 * (`runTask`, through the remote worker side shared with containers, src/backends/remote/) and
 * answers its outcome, the `ctx.log` lines and heartbeats, and whether the environment was cold.
 * See docs/backends/lambda.md.
 */
import type { TaskEnvelope } from "./job/attempt.js";
import { ConfigError, serializeError } from "./job/errors.js";
import { systemContext } from "./job/runtime-context.js";
import { emptyStats } from "./job/stats.js";
import { invocationSchema, LAMBDA_PAYLOAD_LIMIT_BYTES, MAX_REPLY_LOG_BYTES, PROTOCOL, type Reply } from "./backends/lambda/protocol.js";
import type { LambdaContext } from "./backends/lambda/runtime-api.js";
import { loadWorkerModule, ReplyLog, runRemoteAttempt } from "./backends/remote/worker-side.js";
import { formatZodIssues } from "./job/policy.js";
import { workerNames } from "./task-runtime/registry.js";
import { readObject, writeObject } from "./url-objects.js";

export { runRuntimeLoop, type LambdaContext, type LambdaHandler } from "./backends/lambda/runtime-api.js";
export { WORKER_MODULE_ENV } from "./backends/remote/worker-side.js";
/** Objects by URL (payloads and results over Lambda's limit): the same as `smelter/remote-task`'s. */
export { deleteObject, readObject, urlObjects, writeObject } from "./url-objects.js";

let invocations = 0;

/** The Lambda handler: runs one attempt (or answers a ping). Throws only when the event is not Smelter's or the worker module cannot load. */
export async function handler(event: unknown, context: LambdaContext): Promise<Reply> {
  const cold = invocations++ === 0;
  const parsed = invocationSchema.safeParse(event);
  if (!parsed.success) throw new ConfigError(`this function runs Smelter attempts, and the event is not one (${formatZodIssues(parsed.error)}): invoke it through Smelter's lambda backend`);
  await loadWorkerModule("Lambda function", process.env.LAMBDA_TASK_ROOT);
  const invocation = parsed.data;
  if ("ping" in invocation) return { smelter: PROTOCOL, pong: true, workers: workerNames(), cold };
  const replyLog = new ReplyLog();
  const answer = (outcome: Extract<Reply, { outcome: unknown }>["outcome"]): Reply => ({ smelter: PROTOCOL, cold, requestId: context.awsRequestId, outcome, ...replyLog.fields() });
  let envelope: TaskEnvelope;
  try {
    envelope = invocation.envelope ?? (JSON.parse(await readObject(invocation.envelopeUrl ?? "")) as TaskEnvelope);
  } catch (err) {
    const now = systemContext().clock.now();
    return answer({ status: "failed", error: serializeError(err), stats: emptyStats(now, now) });
  }
  const outcome = await runRemoteAttempt(envelope, {
    deadline: context.deadlineMs,
    deadlineName: `the Lambda function's timeout (request ${context.awsRequestId})`,
    deadlineHint: "raise the function's timeout or make tasks smaller",
    listener: {
      onLog: (stream, message) => {
        console.log(message); // the function's CloudWatch logs keep every line
        replyLog.addLog({ stream, message });
      },
      onHeartbeat: (details) => replyLog.heartbeat(details),
    },
    run: { maxInlineOutputBytes: Math.min(invocation.maxInlineOutputBytes, LAMBDA_PAYLOAD_LIMIT_BYTES - 2 * MAX_REPLY_LOG_BYTES), writeResult: writeObject },
  });
  return answer(outcome);
}
