/**
 * The `lambda` backend: each attempt is one synchronous AWS Lambda invocation (`InvokeCommand`,
 * `RequestResponse`) of a function that runs Smelter's handler (`smelter/lambda`, src/lambda.ts).
 * - The request carries the envelope; one over Lambda's 6 MB limit is written to object storage
 *   (next to the attempt's `resultUrl`, else under `store`) and the request carries its URL. An
 *   output over the limit is written by the handler to the envelope's `resultUrl` (the scheduler
 *   reads the winner's), or, when the job gives none, under `store` and read back here.
 * - 429 `TooManyRequestsException` is a `no-capacity` outcome (nothing ran; the scheduler retries
 *   it later without spending the retry budget) and lowers `maxConcurrency` to what the function
 *   was running, raised again by one after each success; `host.capacityChanged()` says so.
 * - A function error maps to Smelter's kinds: `Sandbox.Timedout` -> retryable `TaskTimeout`,
 *   `Runtime.OutOfMemory` -> retryable `OutOfMemory`, a runtime that exited -> retryable
 *   `TaskCrashed`, a handler that cannot load the worker module -> non-retryable `ConfigError`.
 * - `onRunning({ runtimeId: <request id>, cold })` comes with the response (Lambda says nothing
 *   before), then the `ctx.log` lines and heartbeats the handler returned, then the outcome.
 * - `kill` cannot stop an invocation: it resolves `"abandoned"` (or `"stopped"` when the request
 *   was not sent yet); the attempt's result is then a `Cancelled` failure and the late response
 *   is dropped (a result it wrote under `store` is deleted).
 * Credentials are the SDK's (its default chain, or the `client` given): never in a payload, a
 * log line or an event.
 */
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { z } from "zod";
import type { AttemptOutcome, TaskEnvelope } from "../../job/attempt.js";
import { awsCallError, isThrottle } from "../../job/aws-errors.js";
import { CancelledError, ConfigError, OutOfMemoryError, serializeError, SmelterError, TaskCrashedError, TaskTimeoutError } from "../../job/errors.js";
import { parseOrThrow } from "../../job/policy.js";
import { systemContext, type RuntimeContext } from "../../job/runtime-context.js";
import { emptyStats, type AttemptStats } from "../../job/stats.js";
import { AdaptiveLimit } from "../adaptive-limit.js";
import type { AttemptHandle, AttemptListener, Backend, BackendHost, KillOutcome } from "../contract.js";
import { cancellable } from "../remote/cancellable.js";
import { stageEnvelope, type StagedEnvelope } from "../remote/envelope.js";
import { deliverReply, parseJson, withOutputKey } from "../remote/reply.js";
import type { RemoteObjects } from "../remote/store.js";
import { LAMBDA_PAYLOAD_LIMIT_BYTES, MAX_REPLY_LOG_BYTES, PROTOCOL, replySchema, type Invocation, type TaskReply } from "./protocol.js";

/** Reads, writes and deletes objects by URL (payloads and results over the limit). `smelter/lambda` exports one: `urlObjects`. */
export type LambdaObjects = RemoteObjects;

export interface LambdaBackendOptions {
  /** The function's name, ARN or partial ARN (it runs Smelter's handler, see docs/backends/lambda.md). */
  functionName: string;
  /** The version or alias to invoke. @default $LATEST */
  qualifier?: string;
  /** The AWS region. @default the SDK's (AWS_REGION, then its config files) */
  region?: string;
  /** A custom Lambda endpoint (a test endpoint, a VPC endpoint). @default AWS's own */
  endpoint?: string;
  /** A configured client (credentials, retries, proxy); `region` and `endpoint` are then ignored. @default a new LambdaClient with maxAttempts 1 */
  client?: LambdaClient;
  /** Invocations at once, at most (the function's reserved concurrency, or less). Lowered while Lambda throttles. @default 100 */
  concurrency?: number;
  /**
   * Where payloads and results over Lambda's limit go when the attempt's envelope has no
   * `resultUrl` (the job's work store): a URL prefix ending in `/`, e.g. `s3://bucket/_smelter/lambda/`.
   * @default none: such payloads and results fail the attempt with a clear error
   */
  store?: string;
  /** Reads and writes `store` and `resultUrl` objects. @default none (required with `store`, or for payloads over the limit) */
  objects?: LambdaObjects;
  /** The request size limit, bytes: larger envelopes go through object storage. @default 6 MB (Lambda's) */
  payloadLimitBytes?: number;
  /** How long the scheduler waits before relaunching a throttled attempt, ms. @default 1000 */
  throttleRetryMs?: number;
}

export const lambdaOptionsSchema = z.strictObject({
  functionName: z.string({ message: "the Lambda function's name or ARN is required (functionName)" }).min(1, "the Lambda function's name or ARN is required (functionName)"),
  qualifier: z.string().min(1).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "region must look like us-east-1").optional(),
  endpoint: z.url({ message: "endpoint must be a URL such as http://127.0.0.1:9001" }).optional(),
  client: z.instanceof(LambdaClient).optional(),
  concurrency: z.number().int().min(1).max(10_000).default(100),
  store: z.string().regex(/^[a-z0-9]+:\/\/.+\/$/, "store must be a URL prefix ending in / such as s3://bucket/_smelter/lambda/").optional(),
  objects: z.custom<LambdaObjects>((o) => typeof o === "object" && o !== null && typeof (o as LambdaObjects).write === "function", "objects must be { read, write, delete } (urlObjects from smelter/lambda)").optional(),
  payloadLimitBytes: z.number().int().min(1024).default(LAMBDA_PAYLOAD_LIMIT_BYTES),
  throttleRetryMs: z.number().int().min(0).default(1000),
});

export const NAME = "lambda";

/** Room for the invocation's own fields around the envelope in the request, bytes. */
const INVOCATION_OVERHEAD_BYTES = 256;

/** Creates the Lambda backend. Throws ConfigError on bad options. */
export function lambdaBackend(options: LambdaBackendOptions): Backend & { check(): Promise<{ workers: string[] }> } {
  const o = parseOrThrow(lambdaOptionsSchema, options, `${NAME} backend options`);
  if (o.store && !o.objects) throw new ConfigError(`${NAME} backend options: store ${o.store} needs objects to read and write it (urlObjects from smelter/lambda)`);
  const client = o.client ?? new LambdaClient({ maxAttempts: 1, ...(o.region ? { region: o.region } : {}), ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const where = `Lambda function ${o.functionName}${o.endpoint ? ` at ${o.endpoint}` : ""}`;
  const limit = new AdaptiveLimit(o.concurrency, () => host?.capacityChanged());
  let context: RuntimeContext = systemContext();
  let host: BackendHost | undefined;
  let launched = 0;
  let closed = false;


  async function invoke(invocation: Invocation): Promise<InvokeCommandOutput> {
    return client.send(new InvokeCommand({ FunctionName: o.functionName, InvocationType: "RequestResponse", LogType: "Tail", Payload: Buffer.from(JSON.stringify(invocation)), ...(o.qualifier ? { Qualifier: o.qualifier } : {}) }));
  }

  /** Runs one attempt to its outcome; `state.killed` set means nobody wants it any more. */
  async function run(envelope: TaskEnvelope, listener: AttemptListener, state: { killed: boolean; sent: boolean }): Promise<AttemptOutcome> {
    const startedAt = context.clock.now();
    const stats = (): AttemptStats => emptyStats(startedAt, context.clock.now());
    const failed = (err: unknown): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: stats() });
    // The backend's own result key (under `store`) when the job gives none: read back here, and deleted.
    const ownResult = envelope.resultUrl === undefined && o.store !== undefined;
    let staged: StagedEnvelope | undefined;
    if (closed) return failed(new CancelledError(`attempt ${envelope.attemptId} was not sent: the ${NAME} backend was closed`));
    try {
      const maxInlineOutputBytes = o.payloadLimitBytes - 2 * MAX_REPLY_LOG_BYTES;
      staged = await stageEnvelope({ envelope, store: o.store && o.objects ? { url: o.store, ...o.objects } : undefined, inlineLimit: o.payloadLimitBytes - INVOCATION_OVERHEAD_BYTES, carrier: "Lambda's request" });
      const invocation: Invocation = staged.envelopeUrl ? { smelter: PROTOCOL, envelopeUrl: staged.envelopeUrl, maxInlineOutputBytes } : { smelter: PROTOCOL, envelope: staged.envelope, maxInlineOutputBytes };
      if (state.killed) return failed(new CancelledError(`attempt ${envelope.attemptId} was cancelled before it was sent`));
      state.sent = true;
      let response: InvokeCommandOutput;
      try {
        response = await invoke(invocation);
      } catch (err) {
        if (isThrottle(err)) {
          limit.throttled();
          return { status: "no-capacity", reason: `${where} is throttled (TooManyRequestsException${reasonOf(err)}): ${(err as Error).message}`, retryAfterMs: o.throttleRetryMs, stats: stats() };
        }
        return failed(invokeError(err, where, envelope));
      }
      const body = response.Payload ? Buffer.from(response.Payload).toString("utf8") : "";
      if (response.FunctionError) return failed(functionError(response, body, where, envelope));
      const reply = parseReply(body, where);
      if (state.killed) {
        if (ownResult) await staged.cleanup({ reply: true });
        return failed(new CancelledError(`attempt ${envelope.attemptId} was abandoned`));
      }
      limit.succeeded();
      listener.onRunning({ runtimeId: reply.requestId, cold: reply.cold });
      const outcome = deliverReply(reply, listener, `the function's CloudWatch logs (request ${reply.requestId})`);
      if (ownResult && outcome.status === "succeeded" && outcome.outputUrl !== undefined && outcome.outputUrl === staged.resultUrl) {
        // The job has no results store: read the output back here and leave nothing behind.
        const output = JSON.parse(await o.objects!.read(outcome.outputUrl)) as unknown;
        await staged.cleanup({ reply: true });
        return { status: "succeeded", output, stats: outcome.stats };
      }
      return outcome;
    } catch (err) {
      return failed(err);
    } finally {
      await staged?.cleanup();
    }
  }

  return {
    name: NAME,
    get maxConcurrency() {
      return limit.allowed;
    },
    attach(h) {
      host = h;
      context = h.context;
    },
    launch(envelope, listener): AttemptHandle {
      const state = { killed: false, sent: false };
      const attempt = cancellable(limit.run(() => run(envelope, listener, state)), envelope.attemptId, context.clock);
      return {
        runtimeId: `lambda-${++launched}-pending`,
        result: attempt.result,
        kill: async (reason) => {
          if (attempt.settled() || state.killed) return state.sent ? "abandoned" : "stopped";
          state.killed = true;
          attempt.cancel(`${reason}${state.sent ? " (its Lambda invocation runs to its end; its result will not be taken)" : ""}`);
          return (state.sent ? "abandoned" : "stopped") satisfies KillOutcome;
        },
      };
    },
    /** Invokes the function once with a ping: it exists, answers, and runs Smelter's handler. */
    async check() {
      let response: InvokeCommandOutput;
      try {
        response = await invoke({ smelter: PROTOCOL, ping: true });
      } catch (err) {
        throw invokeError(err, where);
      }
      const body = response.Payload ? Buffer.from(response.Payload).toString("utf8") : "";
      if (response.FunctionError) throw new ConfigError(`${where} failed its check: ${body.slice(0, 500)}`);
      const reply = replySchema.safeParse(parseJson(body));
      if (!reply.success || !("pong" in reply.data)) throw notSmelter(where, body);
      return { workers: reply.data.workers };
    },
    async close() {
      closed = true; // queued attempts end as Cancelled without being sent
      if (!o.client) client.destroy();
    },
  };
}

function parseReply(body: string, where: string): TaskReply {
  const reply = replySchema.safeParse(withOutputKey(parseJson(body)));
  if (!reply.success || !("outcome" in reply.data)) throw notSmelter(where, body);
  return reply.data;
}

function notSmelter(where: string, body: string): ConfigError {
  return new ConfigError(`${where} did not answer like Smelter's handler (${body.slice(0, 200)}): deploy it with the smelter/lambda handler and the same Smelter version (docs/backends/lambda.md)`);
}

function reasonOf(err: unknown): string {
  const reason = (err as { Reason?: unknown }).Reason;
  return typeof reason === "string" ? `, ${reason}` : "";
}

/** An Invoke call that failed before the function ran: configuration (not retried) or the network / service (retried). */
function invokeError(err: unknown, where: string, envelope?: TaskEnvelope): SmelterError {
  return awsCallError(err, {
    where,
    call: "Invoke",
    ...(envelope ? { forWhat: ` for attempt ${envelope.attemptId}` } : {}),
    notFound: "deploy it (docs/backends/lambda.md) or fix the function name and region",
    credentials: "the manager's AWS credentials need lambda:InvokeFunction on it",
    unreachableType: "LambdaUnreachable",
    errorType: "LambdaError",
  });
}

/** A response with `FunctionError`: the function timed out, ran out of memory, crashed, or its handler threw. */
function functionError(response: InvokeCommandOutput, body: string, where: string, envelope: TaskEnvelope): SmelterError {
  const parsed = parseJson(body) as { errorType?: unknown; errorMessage?: unknown } | string;
  const type = typeof parsed === "object" && parsed !== null && typeof parsed.errorType === "string" ? parsed.errorType : "Unhandled";
  const message = typeof parsed === "object" && parsed !== null && typeof parsed.errorMessage === "string" ? parsed.errorMessage : String(body).slice(0, 500);
  const tail = response.LogResult ? Buffer.from(response.LogResult, "base64").toString("utf8") : "";
  const what = `${where} ${response.$metadata.requestId ? `(request ${response.$metadata.requestId}) ` : ""}running attempt ${envelope.attemptId} (worker "${envelope.worker}")`;
  const details = { functionError: response.FunctionError, errorType: type, requestId: response.$metadata.requestId };
  if (type === "Sandbox.Timedout" || /Task timed out after/.test(message)) {
    return new TaskTimeoutError(`[smelter] ${what} reached the function's timeout (${message.replace(/^RequestId: \S+ Error: /, "")}): raise the function's timeout or make tasks smaller`);
  }
  if (type === "Runtime.OutOfMemory" || /out of memory|heap limit|Allocation failed/i.test(message + tail)) {
    return new OutOfMemoryError(`[smelter] ${what} ran out of memory (${type}: ${message}): raise the function's memory size or make tasks smaller`, { details });
  }
  if (type.startsWith("Runtime.") || /exit(ed)? (with )?(code|status)|Runtime exited/i.test(message)) {
    const code = /exit (?:status|code) (\d+)|exited with code (\d+)/.exec(`${message}\n${tail}`);
    const exit = code ? ` with code ${code[1] ?? code[2]}` : "";
    return new TaskCrashedError(`[smelter] ${what}: the runtime exited${exit} (${type}: ${message})${tailLines(tail)}`, { details });
  }
  if (type === "ConfigError" || type === "ValidationError") {
    return new ConfigError(`[smelter] ${what} could not run it: ${message}`, { details });
  }
  return new SmelterError(`[smelter] ${what} failed outside the task (${type}: ${message})${tailLines(tail)}`, { type: "LambdaFunctionError", details });
}

/** The last lines of the function's log tail (START/END/REPORT lines left out), for a crash message. */
function tailLines(tail: string): string {
  const lines = tail.split("\n").filter((l) => l.trim() !== "" && !/^(START|END|REPORT) RequestId/.test(l)).slice(-8);
  return lines.length ? `; last log lines:\n  ${lines.join("\n  ")}` : "";
}
