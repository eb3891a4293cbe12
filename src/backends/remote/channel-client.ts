/**
 * Logs and liveness from far away, the worker side (src/remote-task.ts): heartbeats and `ctx.log`
 * lines are batched (every SMELTER_CHANNEL_FLUSH_MS, or at 64 KB) and POSTed to the manager's
 * channel server (SMELTER_CHANNEL_URL, with SMELTER_CHANNEL_TOKEN); when the server cannot be
 * reached (or is not given) they are written as numbered batches under SMELTER_CHANNEL_PREFIX in
 * the job's work store. What could not be sent either way is returned by `close()` for the reply,
 * so nothing is lost and nothing arrives twice.
 */
import type { RuntimeContext, TimerHandle } from "../../job/runtime-context.js";
import { CHANNEL_BATCH_BYTES, CHANNEL_FLUSH_ENV, CHANNEL_PREFIX_ENV, CHANNEL_TOKEN_ENV, CHANNEL_URL_ENV, encodeBatch, encodeMessages, type ChannelMessage } from "./channel-messages.js";
import { channelBatchUrl } from "./keys.js";
import type { LogLine } from "./reply.js";
import type { RemoteObjects } from "./store.js";

/** A POST that takes longer than this counts as unreachable. */
const POST_TIMEOUT_MS = 5000;

export interface WorkerChannel {
  /** Which transport is in use now. */
  readonly transport: () => "http" | "store" | "none";
  send(message: ChannelMessage): void;
  /** Sends what is buffered and stops; resolves with what could not be delivered. */
  close(): Promise<{ logs: LogLine[]; heartbeats: unknown[] }>;
}

export interface WorkerChannelOptions {
  env: Record<string, string | undefined>;
  attemptId: string;
  objects: Pick<RemoteObjects, "write">;
  context: RuntimeContext;
  /** Where to say that the channel fell back (the container's stderr). */
  warn: (line: string) => void;
}

/** The channel the environment describes, or undefined when it describes none. */
export function openWorkerChannel(o: WorkerChannelOptions): WorkerChannel | undefined {
  const url = o.env[CHANNEL_URL_ENV];
  const token = o.env[CHANNEL_TOKEN_ENV];
  const prefix = o.env[CHANNEL_PREFIX_ENV];
  let transport: "http" | "store" | "none" = url && token ? "http" : prefix ? "store" : "none";
  if (transport === "none") return undefined;
  const flushMs = Math.max(10, Number(o.env[CHANNEL_FLUSH_ENV]) || (transport === "http" ? 250 : 2000));
  const clock = o.context.clock;
  let buffer: ChannelMessage[] = [];
  let bytes = 0;
  const undelivered: ChannelMessage[] = [];
  let seq = 0;
  let timer: TimerHandle | undefined;
  let chain: Promise<void> = Promise.resolve();

  const post = async (batch: ChannelMessage[]): Promise<"ok" | "unreachable" | "refused"> => {
    const controller = new AbortController();
    const t = clock.setTimeout(() => controller.abort(new Error("timed out")), POST_TIMEOUT_MS, { unref: true });
    try {
      const res = await fetch(`${url}/attempts/${encodeURIComponent(o.attemptId)}/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" }, body: encodeMessages(batch), signal: controller.signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return "ok";
      if (res.status === 401) o.warn(`[smelter] the manager's channel refused the token (401): sending heartbeats and logs ${prefix ? "to the work store" : "with the reply"} instead`);
      return res.status >= 500 ? "unreachable" : "refused";
    } catch (err) {
      o.warn(`[smelter] cannot reach the manager's channel at ${url} (${(err as Error)?.message ?? String(err)}): sending heartbeats and logs ${prefix ? "to the work store" : "with the reply"} instead`);
      return "unreachable";
    } finally {
      clock.clearTimeout(t);
    }
  };

  const sendBatch = async (batch: ChannelMessage[]): Promise<void> => {
    if (transport === "http") {
      const r = await post(batch);
      if (r === "ok") return;
      transport = prefix ? "store" : "none"; // one failure is enough: the rest goes by the store (or the reply)
    }
    if (transport === "store") {
      try {
        await o.objects.write(channelBatchUrl(prefix!, seq), encodeBatch(batch));
        seq++;
        return;
      } catch (err) {
        o.warn(`[smelter] could not write a channel batch under ${prefix} (${(err as Error)?.message ?? String(err)}): the rest goes with the reply`);
        transport = "none";
      }
    }
    undelivered.push(...batch);
  };

  const flush = (): Promise<void> => {
    clock.clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return chain;
    const batch = buffer;
    buffer = [];
    bytes = 0;
    chain = chain.then(() => sendBatch(batch));
    return chain;
  };

  return {
    transport: () => transport,
    send(message) {
      if (transport === "none") {
        undelivered.push(message);
        return;
      }
      buffer.push(message);
      bytes += message.t === "log" ? Buffer.byteLength(message.message) : 64;
      if (bytes >= CHANNEL_BATCH_BYTES) void flush();
      else timer ??= clock.setTimeout(() => void flush(), flushMs, { unref: true });
    },
    async close() {
      await flush();
      const logs: LogLine[] = [];
      const heartbeats: unknown[] = [];
      for (const m of undelivered) {
        if (m.t === "log") logs.push({ stream: m.stream, message: m.message });
        else heartbeats.push(m.details);
      }
      return { logs, heartbeats };
    },
  };
}
