/**
 * PROVISIONAL stand-in for the shared remote-attempt helpers (src/backends/remote/ on branch
 * wt-remote), with the same names and shapes, so that the fargate backend switches to them by
 * changing one import: the envelope in the container's environment (`SMELTER_TASK`, or
 * `SMELTER_TASK_URL` when too large), the reply read back from `resultUrl` after exit 0.
 */
import { z } from "zod";
import { attemptOutcomeSchema, type AttemptListener, type AttemptOutcome, type TaskEnvelope } from "../../job/attempt.js";
import { ConfigError, serializeError, SmelterError, TaskCrashedError } from "../../job/errors.js";
import { formatZodIssues } from "../../job/policy.js";
import type { AttemptStats } from "../../job/stats.js";

export interface RemoteObjects {
  read(url: string): Promise<string>;
  write(url: string, text: string): Promise<void>;
  delete(url: string): Promise<void>;
}
export interface RemoteStore extends RemoteObjects {
  readonly url: string;
}

const INLINE = 4096;

export interface RemoteEnvelope {
  env: Record<string, string>;
  envelope: TaskEnvelope;
  resultUrl: string;
  cleanup(): Promise<void>;
}

export async function remoteEnvelope(o: { envelope: TaskEnvelope; store: RemoteStore | undefined }): Promise<RemoteEnvelope> {
  const resultUrl = o.envelope.resultUrl ?? (o.store ? `${o.store.url}${o.envelope.jobId}/results/${o.envelope.attemptId}.json` : undefined);
  if (!resultUrl || !o.store) throw new ConfigError(`attempt ${o.envelope.attemptId} has nowhere to write its reply: a container backend needs the job's work store (--work s3://bucket/prefix/) or a store of its own`);
  const store = o.store;
  const envelope = { ...o.envelope, resultUrl };
  const text = JSON.stringify(envelope);
  let staged: string | undefined;
  if (Buffer.byteLength(text) > INLINE) {
    staged = resultUrl.replace(/(\.json)?$/, ".envelope.json");
    await store.write(staged, text);
  }
  return {
    env: staged ? { SMELTER_TASK_URL: staged } : { SMELTER_TASK: text },
    envelope,
    resultUrl,
    cleanup: async () => void (await Promise.all([staged, resultUrl].filter((u): u is string => !!u).map((u) => store.delete(u).catch(() => undefined)))),
  };
}

const replySchema = z.object({
  outcome: attemptOutcomeSchema,
  logs: z.array(z.object({ stream: z.enum(["stdout", "stderr", "log"]), message: z.string() })).default([]),
  logsDropped: z.number().default(0),
  heartbeats: z.array(z.unknown()).default([]),
});

export async function readRemoteReply(store: Pick<RemoteObjects, "read">, resultUrl: string): Promise<z.output<typeof replySchema>> {
  let text: string;
  try {
    text = await store.read(resultUrl);
  } catch (err) {
    const missing = (err as { type?: string }).type === "NotFound";
    throw new SmelterError(`the attempt left no reply at ${resultUrl}${missing ? "" : ` (${(err as Error).message})`}`, { cause: err, type: missing ? "ReplyMissing" : "ReplyUnreadable" });
  }
  const json = JSON.parse(text) as { outcome?: Record<string, unknown> };
  if (json?.outcome?.status === "succeeded" && !("output" in json.outcome)) json.outcome.output = undefined;
  const r = replySchema.safeParse(json);
  if (!r.success) throw new SmelterError(`the object at ${resultUrl} is not a Smelter reply (${formatZodIssues(r.error)})`, { type: "ReplyInvalid" });
  return r.data;
}

export async function remoteOutcome(o: {
  exitCode: number | null;
  store: Pick<RemoteObjects, "read">;
  remote: Pick<RemoteEnvelope, "resultUrl" | "envelope" | "cleanup">;
  listener: Pick<AttemptListener, "onLog" | "onHeartbeat">;
  where: string;
  logsWhere: string;
  stats: () => AttemptStats;
}): Promise<AttemptOutcome> {
  const failed = (err: unknown): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: o.stats() });
  try {
    if (o.exitCode === 0) {
      const reply = await readRemoteReply(o.store, o.remote.resultUrl);
      for (const line of reply.logs) o.listener.onLog(line.stream, line.message);
      for (const d of reply.heartbeats) o.listener.onHeartbeat(d);
      return reply.outcome as AttemptOutcome;
    }
    return failed(new TaskCrashedError(`${o.where} running attempt ${o.remote.envelope.attemptId} exited with code ${o.exitCode ?? "unknown"} before replying: see ${o.logsWhere}`));
  } catch (err) {
    return failed(err);
  } finally {
    await o.remote.cleanup();
  }
}
