/**
 * Logs and liveness from far away, the manager side. A remote worker sends its heartbeats and
 * `ctx.log` lines (channel-messages.ts) either over HTTP to a small server the manager runs
 * (node:http, bound to 127.0.0.1 unless told otherwise, a per-job random token on every request),
 * or, when it cannot reach it, as batches appended to the job's work store
 * (`<work><jobId>/channel/<attemptId>/<seq>.ndjson`), which the manager polls. Either way the
 * backend calls the attempt's `onLog` / `onHeartbeat`, so the scheduler's heartbeat timeout works
 * the same for both. Timers come from the runtime context.
 *
 *   const channel = await openRemoteChannel({ context, store, transport: "auto" });
 *   const watch = channel.watch(attemptId, remote.resultUrl, listener); // before starting the container
 *   ... start it with { ...remote.env, ...watch.env } ...; when it exited: await watch.stop();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AttemptListener } from "../../job/attempt.js";
import type { RuntimeContext, TimerHandle } from "../../job/runtime-context.js";
import { CHANNEL_FLUSH_ENV, CHANNEL_MAX_BODY_BYTES, CHANNEL_PREFIX_ENV, CHANNEL_TOKEN_ENV, CHANNEL_URL_ENV, decodeBatch, decodeMessages, type ChannelMessage } from "./channel-messages.js";
import { secureToken, tokenMatches } from "./channel-token.js";
import { channelBatchUrl, channelPrefixFor } from "./keys.js";
import { isNotFound, type RemoteObjects } from "./store.js";

/** `http`: the server only; `store`: the work store only; `auto`: the server, and the store when a worker cannot reach it. */
export type ChannelTransport = "http" | "store" | "auto";

export interface RemoteChannelOptions {
  context: RuntimeContext;
  /** @default "auto" with a store, else "http" */
  transport?: ChannelTransport;
  /** The job's work store (for `store` and `auto`). */
  store?: RemoteObjects;
  /** Address the server listens on. @default 127.0.0.1 (a worker on another machine needs an address it can reach, e.g. 0.0.0.0 with `advertiseUrl`) */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** The URL workers dial. @default http://<host>:<port> */
  advertiseUrl?: string;
  /** How often the manager reads an attempt's next store batch, ms. @default 2000 */
  pollMs?: number;
  /** How often workers send a batch, ms. @default 250 over HTTP, 2000 to the store */
  flushMs?: number;
}

/** What one attempt's channel gives its backend. */
export interface AttemptChannel {
  /** The worker's environment: SMELTER_CHANNEL_URL/TOKEN and/or SMELTER_CHANNEL_PREFIX, SMELTER_CHANNEL_FLUSH_MS. */
  readonly env: Record<string, string>;
  /** Reads what is left in the store, deletes the batches read, and stops listening for the attempt. Call it once the worker exited (or was given up). */
  stop(): Promise<void>;
}

export interface RemoteChannel {
  /** The server's URL, when it runs. */
  readonly url: string | undefined;
  /** Starts listening for `attemptId`: its messages go to `listener`. `resultUrl` locates its store channel. */
  watch(attemptId: string, resultUrl: string, listener: Pick<AttemptListener, "onLog" | "onHeartbeat">): AttemptChannel;
  close(): Promise<void>;
}

/** Opens the channel (starts the server unless the transport is `store`). */
export async function openRemoteChannel(o: RemoteChannelOptions): Promise<RemoteChannel> {
  const transport: ChannelTransport = o.transport ?? (o.store ? "auto" : "http");
  if (transport !== "http" && !o.store) throw new Error(`[smelter] the ${transport} channel transport needs the job's work store`);
  const listeners = new Map<string, Pick<AttemptListener, "onLog" | "onHeartbeat">>();
  const token = secureToken();
  const server = transport === "store" ? undefined : await startServer(o.host ?? "127.0.0.1", o.port ?? 0, token, listeners);
  const url = server ? (o.advertiseUrl ?? serverUrl(server, o.host ?? "127.0.0.1")) : undefined;
  const pollMs = o.pollMs ?? 2000;
  const flushMs = o.flushMs ?? (transport === "store" ? 2000 : 250);
  const watches = new Set<AttemptChannel>();
  return {
    url,
    watch(attemptId, resultUrl, listener) {
      listeners.set(attemptId, listener);
      const prefix = channelPrefixFor(resultUrl, attemptId);
      const env: Record<string, string> = { [CHANNEL_FLUSH_ENV]: String(flushMs) };
      if (url) Object.assign(env, { [CHANNEL_URL_ENV]: url, [CHANNEL_TOKEN_ENV]: token });
      if (transport !== "http") env[CHANNEL_PREFIX_ENV] = prefix;
      // `auto` polls slowly until a worker falls back to the store, then at pollMs.
      const poller = transport === "http" ? undefined : pollStore({ store: o.store!, prefix, listener, context: o.context, pollMs, idlePollMs: transport === "auto" ? pollMs * 5 : pollMs });
      const watch: AttemptChannel = {
        env,
        async stop() {
          listeners.delete(attemptId);
          watches.delete(watch);
          await poller?.stop();
        },
      };
      watches.add(watch);
      return watch;
    },
    async close() {
      await Promise.all([...watches].map((w) => w.stop()));
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serverUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function deliver(messages: readonly ChannelMessage[], listener: Pick<AttemptListener, "onLog" | "onHeartbeat">): void {
  for (const m of messages) {
    if (m.t === "log") listener.onLog(m.stream, m.message);
    else listener.onHeartbeat(m.details);
  }
}

/** POST /attempts/<attemptId>/events with `Authorization: Bearer <token>` and an NDJSON body: 204, or 401 / 404 / 413 / 400. */
async function startServer(host: string, port: number, token: string, listeners: Map<string, Pick<AttemptListener, "onLog" | "onHeartbeat">>): Promise<Server> {
  const server = createServer((req, res) => void handle(req, res));
  const reply = (res: ServerResponse, status: number, text = ""): void => {
    res.writeHead(status, { "content-type": "text/plain" }).end(text);
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!tokenMatches(auth, token)) return reply(res, 401, "[smelter] wrong or missing channel token\n");
    const m = /^\/attempts\/([^/]+)\/events$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m) return reply(res, 404, "[smelter] POST /attempts/<attemptId>/events\n");
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      bytes += c.length;
      if (bytes > CHANNEL_MAX_BODY_BYTES) return reply(res, 413, `[smelter] a channel batch is at most ${CHANNEL_MAX_BODY_BYTES} bytes\n`);
      chunks.push(c);
    }
    const listener = listeners.get(decodeURIComponent(m[1]!));
    // An attempt the manager no longer watches (given up, abandoned): its messages are not taken.
    if (!listener) return reply(res, 404, "[smelter] no such running attempt\n");
    let messages: ChannelMessage[];
    try {
      messages = decodeMessages(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      return reply(res, 400, `[smelter] ${(err as Error).message}\n`);
    }
    deliver(messages, listener);
    reply(res, 204);
  }
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => (server.off("error", reject), resolve()));
  });
  server.unref();
  return server;
}

interface StorePoll {
  store: RemoteObjects;
  prefix: string;
  listener: Pick<AttemptListener, "onLog" | "onHeartbeat">;
  context: RuntimeContext;
  pollMs: number;
  /** The interval until the first batch is seen. */
  idlePollMs: number;
}

/** Polls of a batch found not whole (still being written) before it is given up as lost. */
const PARTIAL_READS = 20;

/** Reads batches 0, 1, 2, ... of a store channel as they appear, delivering and deleting each (a batch read while still being written is read again). */
function pollStore(o: StorePoll): { stop(): Promise<void> } {
  const clock = o.context.clock;
  let seq = 0;
  let seen = false;
  let stopped = false;
  let timer: TimerHandle | undefined;
  let running: Promise<void> = Promise.resolve();
  /** Reads of the current batch that found it not whole yet (still being written). */
  let partialReads = 0;
  /** Reads every batch there is now; `last`: the worker has exited, so a batch not whole now never will be. */
  const drain = async (last = false): Promise<void> => {
    for (;;) {
      const url = channelBatchUrl(o.prefix, seq);
      let text: string;
      try {
        text = await o.store.read(url);
      } catch (err) {
        if (isNotFound(err)) return;
        o.listener.onLog("stderr", `[smelter] could not read the channel batch ${url}: ${(err as Error)?.message ?? String(err)}`);
        return;
      }
      seen = true;
      let messages: ChannelMessage[] | undefined;
      try {
        messages = decodeBatch(text);
      } catch (err) {
        o.listener.onLog("stderr", `[smelter] the channel batch ${url} is not Smelter's: ${(err as Error).message}`);
        messages = [];
      }
      if (messages === undefined) {
        // Not whole yet: read it again at the next poll (a while at most, or once the worker is gone).
        if (!last && ++partialReads < PARTIAL_READS) return;
        o.listener.onLog("stderr", `[smelter] the channel batch ${url} stayed incomplete (${text.length} bytes): its heartbeats and log lines are lost`);
        messages = [];
      }
      partialReads = 0;
      seq++;
      deliver(messages, o.listener);
      await o.store.delete(url).catch(() => undefined);
    }
  };
  const tick = (): void => {
    timer = undefined;
    running = drain().finally(() => {
      if (!stopped) timer = clock.setTimeout(tick, seen ? o.pollMs : o.idlePollMs, { unref: true });
    });
  };
  timer = clock.setTimeout(tick, o.idlePollMs, { unref: true });
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clock.clearTimeout(timer);
      await running;
      await drain(true);
    },
  };
}
