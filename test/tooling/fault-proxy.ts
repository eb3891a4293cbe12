/**
 * A fault-injecting HTTP proxy in front of any S3 endpoint (the embedded s3rver, versitygw), on
 * 127.0.0.1 only, for tests. Each request draws from a seeded PRNG, in arrival order:
 *
 * - `slowDown`: answered 503 `SlowDown` (S3's XML) without reaching the server;
 * - `reset`: its connection destroyed without an answer, before reaching the server;
 * - `stall`: held without an answer until the client gives up (or `stop()`), never forwarded;
 * - `truncate`: forwarded, and a successful GET's body is cut after half its bytes (the connection
 *   closes mid-body, as a dropped connection does); other responses pass untouched (not counted);
 * - `stallBody`: the same, but after half the body the connection stays open and silent;
 * - independently, `latency`: an added delay before forwarding, drawn from a Pareto distribution
 *   (heavy tail: most delays near `latencyMs`, a few far longer, capped at `maxLatencyMs`).
 *
 * Faults that never reach the server keep the server's state simple to reason about (a lost
 * request); `truncate` hits only responses, after the server did the work. Signed requests pass
 * through unchanged (the Host header is kept), so the server checks signatures as usual.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { listenOnLoopback } from "./listen.js";
import { mulberry32 } from "../../src/job/runtime-context.js";

export const FAULT_KINDS = ["slowDown", "reset", "stall", "truncate", "stallBody"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultProxyOptions {
  /** The S3 endpoint to forward to, e.g. `http://127.0.0.1:4568`. */
  target: string;
  /** PRNG seed: the same seed and the same request order give the same faults. */
  seed: number;
  /** Probability of each fault per request (their sum at most 1). @default all 0 */
  rates?: Partial<Record<FaultKind, number>>;
  /** Probability that a request is delayed (on top of any fault). @default 0 */
  latencyRate?: number;
  /** The Pareto scale: the smallest added delay, ms. @default 20 */
  latencyMs?: number;
  /** The Pareto shape: lower is a heavier tail. @default 1.2 */
  latencyShape?: number;
  /** The longest added delay, ms. @default 3000 */
  maxLatencyMs?: number;
}

export interface FaultProxyStats {
  requests: number;
  /** Requests that got each fault. */
  faults: Record<FaultKind, number>;
  /** Requests delayed, and the delays' sum and maximum, ms. */
  delayed: number;
  delayMsTotal: number;
  delayMsMax: number;
  /** Requests passed to the server. */
  forwarded: number;
}

export interface FaultProxy {
  endpoint: string;
  readonly stats: FaultProxyStats;
  /** Changes the fault rates from now on (e.g. 0 to set data up cleanly). */
  setRates(rates: Partial<Record<FaultKind, number>>, latencyRate?: number): void;
  /**
   * Holds every request `match`es (before any fault or delay) until `release()`: a test acts at
   * that point (e.g. changes an object between a job's listing and its reads). `first` resolves
   * with the first held request.
   */
  hold(match: (req: IncomingMessage) => boolean): { first: Promise<IncomingMessage>; release(): void };
  stop(): Promise<void>;
}


const SLOW_DOWN_XML = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>';

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(target.hostname)) throw new Error(`the fault proxy forwards to loopback only, not ${target.hostname}`);
  const random = mulberry32(options.seed);
  let rates: Record<FaultKind, number> = { slowDown: 0, reset: 0, stall: 0, truncate: 0, stallBody: 0, ...options.rates };
  let latencyRate = options.latencyRate ?? 0;
  const latencyMs = options.latencyMs ?? 20;
  const shape = options.latencyShape ?? 1.2;
  const maxLatencyMs = options.maxLatencyMs ?? 3000;
  const stats: FaultProxyStats = { requests: 0, faults: { slowDown: 0, reset: 0, stall: 0, truncate: 0, stallBody: 0 }, delayed: 0, delayMsTotal: 0, delayMsMax: 0, forwarded: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const draw = (): { fault?: FaultKind; delay: number } => {
    const u = random();
    let acc = 0;
    let fault: FaultKind | undefined;
    for (const k of FAULT_KINDS) {
      acc += rates[k];
      if (u < acc) {
        fault = k;
        break;
      }
    }
    let delay = 0;
    if (random() < latencyRate) delay = Math.min(maxLatencyMs, latencyMs / Math.pow(1 - random(), 1 / shape));
    return { fault, delay };
  };

  const forward = (req: IncomingMessage, res: ServerResponse, cut: "truncate" | "stallBody" | undefined): void => {
    stats.forwarded++;
    const up = request({ host: target.hostname.replace(/^\[|\]$/g, ""), port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      const length = Number(r.headers["content-length"] ?? 0);
      const status = r.statusCode ?? 502;
      if (!cut || req.method !== "GET" || status < 200 || status > 299 || !(length > 1)) {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        return;
      }
      stats.faults[cut]++;
      res.writeHead(r.statusCode ?? 502, r.headers);
      let left = Math.floor(length / 2);
      r.on("data", (chunk: Buffer) => {
        if (left <= 0) return;
        const part = chunk.subarray(0, left);
        left -= part.byteLength;
        res.write(part);
        if (left <= 0) {
          r.destroy();
          // Let the written half leave, then drop the connection mid-body, or hold it silent.
          if (cut === "truncate") res.socket?.end(() => res.socket?.destroy());
        }
      });
      r.on("end", () => {
        if (left > 0) res.end();
      });
    });
    up.on("error", () => res.socket?.destroy());
    req.pipe(up);
  };

  let gate: { match: (req: IncomingMessage) => boolean; held: (() => void)[]; onHeld: (req: IncomingMessage) => void } | undefined;
  const server = createServer(function handle(req, res): void {
    if (gate?.match(req)) {
      req.pause();
      gate.held.push(() => handle(req, res));
      gate.onHeld(req);
      return;
    }
    stats.requests++;
    const { fault, delay } = draw();
    const act = (): void => {
      switch (fault) {
        case "slowDown":
          stats.faults.slowDown++;
          req.resume();
          res.writeHead(503, { "content-type": "application/xml", "content-length": Buffer.byteLength(SLOW_DOWN_XML) });
          res.end(SLOW_DOWN_XML);
          return;
        case "reset":
          stats.faults.reset++;
          req.socket.resetAndDestroy();
          return;
        case "stall":
          stats.faults.stall++;
          req.resume(); // read the request, never answer
          return;
        default:
          forward(req, res, fault === "truncate" || fault === "stallBody" ? fault : undefined);
      }
    };
    if (delay <= 0) return act();
    stats.delayed++;
    stats.delayMsTotal += delay;
    stats.delayMsMax = Math.max(stats.delayMsMax, delay);
    req.pause();
    const t = setTimeout(() => {
      timers.delete(t);
      act();
    }, delay);
    timers.add(t);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setRates(next, nextLatency) {
      rates = { slowDown: 0, reset: 0, stall: 0, truncate: 0, stallBody: 0, ...next };
      if (nextLatency !== undefined) latencyRate = nextLatency;
    },
    hold(match) {
      let onHeld!: (req: IncomingMessage) => void;
      const first = new Promise<IncomingMessage>((resolve) => (onHeld = resolve));
      const g = { match, held: [] as (() => void)[], onHeld };
      gate = g;
      return {
        first,
        release() {
          if (gate === g) gate = undefined;
          for (const go of g.held.splice(0)) go();
        },
      };
    },
    async stop() {
      gate = undefined;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
