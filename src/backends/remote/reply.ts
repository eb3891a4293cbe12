/**
 * What a remote attempt answers (the far side: src/remote-task.ts in a container, src/lambda.ts
 * on Lambda), as data validated with zod on the manager side: the outcome with its stats, the
 * `ctx.log` lines the manager has not received yet (capped), and the last heartbeat.
 * A container writes it as JSON to the envelope's `resultUrl` and exits 0; the manager reads it
 * back with {@link readRemoteReply} and replays it to the attempt's listener with {@link deliverReply}.
 */
import { z } from "zod";
import { attemptOutcomeSchema, type AttemptListener, type AttemptOutcome } from "../../job/attempt.js";
import { SmelterError } from "../../job/errors.js";
import { formatZodIssues } from "../../job/policy.js";
import { isNotFound, type RemoteObjects } from "./store.js";

/** The version both sides must speak (the container reply's `smelter` field). */
export const REMOTE_PROTOCOL = 1;

/** Log lines a reply carries, at most (the rest are counted in `logsDropped`; they are in the worker's own logs). */
export const MAX_REPLY_LOG_BYTES = 128 * 1024;

export const logLineSchema = z.object({ stream: z.enum(["stdout", "stderr", "log"]), message: z.string() });
export type LogLine = z.infer<typeof logLineSchema>;

/** The fields every remote reply has (Lambda's adds its own: cold, requestId). */
export const replyReportShape = {
  outcome: attemptOutcomeSchema,
  /** `ctx.log` lines not delivered live (through the channel), oldest first. */
  logs: z.array(logLineSchema),
  /** Log lines left out (over {@link MAX_REPLY_LOG_BYTES}). */
  logsDropped: z.number().int().min(0),
  /** `ctx.heartbeat` details not delivered live, oldest first, at most the last {@link MAX_REPLY_HEARTBEATS}: the last one is the attempt's resume point for a retry. */
  heartbeats: z.array(z.unknown()),
};

/** Heartbeats a reply carries, at most (the last ones: the latest details are what a retry resumes from). */
export const MAX_REPLY_HEARTBEATS = 100;

/** A container's reply, at `resultUrl`. */
export const remoteReplySchema = z.object({
  smelter: z.literal(REMOTE_PROTOCOL),
  attemptId: z.string().min(1),
  /** Where it ran (a hostname, a pod name): for messages. */
  runtime: z.string().optional(),
  ...replyReportShape,
});
export type RemoteReply = z.infer<typeof remoteReplySchema>;

/**
 * Reads and validates the reply at `resultUrl`. A missing reply (the worker died before writing
 * it) or one that is not Smelter's (another version, a truncated object) is a clear, retryable
 * SmelterError of type `ReplyMissing` / `ReplyInvalid`; a reply for another attempt is refused.
 */
export async function readRemoteReply(store: Pick<RemoteObjects, "read">, resultUrl: string, attemptId?: string): Promise<RemoteReply> {
  let text: string;
  try {
    text = await store.read(resultUrl);
  } catch (err) {
    if (isNotFound(err)) {
      throw new SmelterError(`[smelter] the attempt${attemptId ? ` ${attemptId}` : ""} left no reply at ${resultUrl}: its worker stopped before writing one (see its logs)`, { cause: err, type: "ReplyMissing" });
    }
    throw new SmelterError(`[smelter] could not read the reply of attempt${attemptId ? ` ${attemptId}` : ""} at ${resultUrl}: ${(err as Error)?.message ?? String(err)}`, { cause: err, type: "ReplyUnreadable" });
  }
  const parsed = remoteReplySchema.safeParse(withOutputKey(parseJson(text)));
  if (!parsed.success) {
    throw new SmelterError(`[smelter] the object at ${resultUrl} is not a Smelter reply (${formatZodIssues(parsed.error)}; it starts ${JSON.stringify(text.slice(0, 120))}): run the same Smelter version in the manager and the worker image`, { type: "ReplyInvalid" });
  }
  if (attemptId !== undefined && parsed.data.attemptId !== attemptId) {
    throw new SmelterError(`[smelter] the reply at ${resultUrl} is attempt ${parsed.data.attemptId}'s, not ${attemptId}'s: it is not taken`, { type: "ReplyInvalid" });
  }
  return parsed.data;
}

/**
 * Gives the listener what the reply carries that it has not seen (log lines, the last
 * heartbeat; a note when lines were dropped, saying where they are) and returns the outcome.
 */
export function deliverReply(reply: Pick<RemoteReply, "outcome" | "logs" | "logsDropped" | "heartbeats">, listener: Pick<AttemptListener, "onLog" | "onHeartbeat">, droppedWhere: string): AttemptOutcome {
  for (const line of reply.logs) listener.onLog(line.stream, line.message);
  if (reply.logsDropped > 0) listener.onLog("stderr", `[smelter] ${reply.logsDropped} more log lines are in ${droppedWhere}`);
  for (const details of reply.heartbeats) listener.onHeartbeat(details);
  return reply.outcome as AttemptOutcome;
}

/** JSON drops `output: undefined` (an output written to its resultUrl): put the key back for the schema. */
export function withOutputKey(json: unknown): unknown {
  const outcome = (json as { outcome?: unknown } | null)?.outcome;
  if (outcome && typeof outcome === "object" && (outcome as { status?: unknown }).status === "succeeded" && !("output" in outcome)) (outcome as { output?: unknown }).output = undefined;
  return json;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
