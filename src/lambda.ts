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
 * (`runTask`) and answers its outcome, the `ctx.log` lines and heartbeats, and whether the
 * environment was cold. See docs/backends/lambda.md.
 */
import { isAbsolute, join } from "node:path";
import type { TaskEnvelope } from "./job/attempt.js";
import { ConfigError, serializeError, TaskTimeoutError } from "./job/errors.js";
import { systemContext } from "./job/runtime-context.js";
import { emptyStats } from "./job/stats.js";
import { invocationSchema, LAMBDA_PAYLOAD_LIMIT_BYTES, MAX_REPLY_LOG_BYTES, PROTOCOL, type Reply, type TaskReply } from "./backends/lambda/protocol.js";
import type { LambdaContext } from "./backends/lambda/runtime-api.js";
import { resolveEntry } from "./backends/local-pool.js";
import { formatZodIssues } from "./job/policy.js";
import { workerNames } from "./task-runtime/registry.js";
import { runTask } from "./task-runtime/runtime.js";
import { cachedStore } from "./storage/cache.js";
import type { ObjectStore } from "./storage/contract.js";
import { openStore, parseStoreUrl } from "./storage/url.js";

export { runRuntimeLoop, type LambdaContext, type LambdaHandler } from "./backends/lambda/runtime-api.js";

/** The environment variable naming the user's worker module. */
export const WORKER_MODULE_ENV = "SMELTER_WORKER_MODULE";

/** How long before the function's own timeout the attempt's signal is aborted (a tenth of the time left, 100 ms to 1 s), so it can end with stats. */
const timeoutMargin = (remainingMs: number): number => Math.min(1000, Math.max(100, remainingMs / 10));

let workersLoaded: Promise<void> | undefined;
let invocations = 0;

/** The Lambda handler: runs one attempt (or answers a ping). Throws only when the event is not Smelter's or the worker module cannot load. */
export async function handler(event: unknown, context: LambdaContext): Promise<Reply> {
  const cold = invocations++ === 0;
  const parsed = invocationSchema.safeParse(event);
  if (!parsed.success) throw new ConfigError(`this function runs Smelter attempts, and the event is not one (${formatZodIssues(parsed.error)}): invoke it through Smelter's lambda backend`);
  await loadWorkers();
  const invocation = parsed.data;
  if ("ping" in invocation) return { smelter: PROTOCOL, pong: true, workers: workerNames(), cold };
  const clock = systemContext().clock;
  const reply: TaskReply = { smelter: PROTOCOL, outcome: { status: "no-capacity", reason: "" }, cold, requestId: context.awsRequestId, logs: [], logsDropped: 0, heartbeats: [] };
  let logBytes = 0;
  let envelope: TaskEnvelope;
  try {
    envelope = invocation.envelope ?? (JSON.parse(await readObject(invocation.envelopeUrl ?? "")) as TaskEnvelope);
  } catch (err) {
    const now = clock.now();
    return { ...reply, outcome: { status: "failed", error: serializeError(err), stats: emptyStats(now, now) } };
  }
  const controller = new AbortController();
  const remaining = context.getRemainingTimeInMillis();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`the Lambda function's timeout is ${Math.round(timeoutMargin(remaining))} ms away`));
  }, Math.max(0, remaining - timeoutMargin(remaining)));
  try {
    reply.outcome = await runTask(
      envelope,
      {
        onRunning: () => {},
        onLog: (stream, message) => {
          console.log(message); // the function's CloudWatch logs keep every line
          logBytes += Buffer.byteLength(message);
          if (logBytes <= MAX_REPLY_LOG_BYTES) reply.logs.push({ stream, message });
          else reply.logsDropped++;
        },
        onHeartbeat: (details) => reply.heartbeats.push(details ?? null),
      },
      controller.signal,
      { maxInlineOutputBytes: Math.min(invocation.maxInlineOutputBytes, LAMBDA_PAYLOAD_LIMIT_BYTES - 2 * MAX_REPLY_LOG_BYTES), writeResult: writeObject },
    );
  } finally {
    clock.clearTimeout(timer);
  }
  if (timedOut && reply.outcome.status === "failed" && reply.outcome.error.type === "Cancelled") {
    // Not a cancel by the manager: the function's timeout came first. Retryable, with the attempt's stats.
    const error = new TaskTimeoutError(`attempt ${envelope.attemptId} (worker "${envelope.worker}") reached the Lambda function's timeout (request ${context.awsRequestId}): raise the function's timeout or make tasks smaller`);
    reply.outcome = { ...reply.outcome, error: serializeError(error) };
  }
  return reply;
}

/** Imports the module named by SMELTER_WORKER_MODULE once per execution environment. */
function loadWorkers(): Promise<void> {
  workersLoaded ??= (async () => {
    const name = process.env[WORKER_MODULE_ENV];
    if (!name) throw new ConfigError(`${WORKER_MODULE_ENV} is not set: set it in the function's environment to your worker module (the file that calls defineWorker), relative to the function's root`);
    const root = process.env.LAMBDA_TASK_ROOT;
    const url = resolveEntry(root && !isAbsolute(name) && !/^[a-z][a-z0-9+.-]+:/i.test(name) ? join(root, name) : name, "lambda");
    try {
      await import(url);
    } catch (err) {
      throw new ConfigError(`could not import the worker module ${url} (${WORKER_MODULE_ENV}): ${(err as Error).message}`, { cause: err });
    }
  })();
  workersLoaded.catch(() => (workersLoaded = undefined));
  return workersLoaded;
}

/** The store holding the object at `url` and its key; S3 clients are kept per bucket (warm environments reuse connections). */
async function objectAt(url: string): Promise<{ store: ObjectStore; key: string }> {
  const parsed = parseStoreUrl(url);
  return parsed.scheme === "s3" ? { store: await cachedStore(`s3://${parsed.bucket}`), key: parsed.key } : openStore(url);
}

/** Reads an object by URL (`s3://bucket/key`) as text. */
export async function readObject(url: string): Promise<string> {
  const { store, key } = await objectAt(url);
  return Buffer.from(await store.get(key)).toString("utf8");
}

/** Writes text to an object by URL. */
export async function writeObject(url: string, text: string): Promise<void> {
  const { store, key } = await objectAt(url);
  await store.put(key, Buffer.from(text));
}

/** Deletes an object by URL (no error when it is missing). */
export async function deleteObject(url: string): Promise<void> {
  const { store, key } = await objectAt(url);
  await store.delete(key);
}

/** The manager side's access to payloads and results by URL, for {@link lambdaBackend}'s `objects`. */
export const urlObjects = { read: readObject, write: writeObject, delete: deleteObject };
