/**
 * A store wrapper that adds latency to GETs, for tests and benchmarks of hedged reads: every
 * GET waits `latencyMs + bytes / bandwidth`, and `slow(request)` can add more to chosen ones
 * (an injected straggler, before the first byte: with `tellsFirstByte` the store says when the
 * first byte came, as S3 does). Waits honour the request's AbortSignal, and aborted requests are
 * recorded, so a test can see the loser of a hedge race being cut off. Everything else is the
 * wrapped store, untouched.
 */
import { z } from "zod";
import { systemClock, type Clock } from "../job/clock.js";
import { parseOrThrow } from "../job/policy.js";
import type { ByteRange, ObjectStore } from "./contract.js";
import { defineStore } from "./store.js";

/** One GET as seen by the wrapper. */
export interface DelayedRequest {
  /** 0-based, in the order GETs arrived. */
  index: number;
  key: string;
  range?: ByteRange;
}

/** Options of {@link delayedStore}. */
export interface DelayedStoreOptions {
  /** Added to every GET, ms. @default 0 */
  latencyMs?: number;
  /** Bytes per second a GET's wait adds for its size; 0 adds nothing. @default 0 */
  bandwidth?: number;
  /** Extra ms for chosen GETs (an injected slow response). @default () => 0 */
  slow?: (request: DelayedRequest) => number;
  /** Whose time the delays are (the runtime context's clock). @default the system clock */
  clock?: Clock;
  /** Tell the first byte as S3 does (`onFirstByte` after the latency and the slow part, before the transfer). @default false */
  tellsFirstByte?: boolean;
}

const optionsSchema = z.strictObject({
  latencyMs: z.number().min(0).default(0),
  bandwidth: z.number().min(0).default(0),
  slow: z.custom<(request: DelayedRequest) => number>((v) => typeof v === "function").optional(),
  clock: z.custom<Clock>((c) => typeof c === "object" && c !== null && typeof (c as Clock).sleep === "function", "a clock").optional(),
  tellsFirstByte: z.boolean().default(false),
});

export interface DelayedStore extends ObjectStore {
  /** Every GET so far, with how it ended. */
  readonly requests: (DelayedRequest & { delayMs: number; outcome: "pending" | "done" | "aborted" })[];
}

export function delayedStore(inner: ObjectStore, options: DelayedStoreOptions = {}): DelayedStore {
  const opts = parseOrThrow(optionsSchema, options, "delayedStore options");
  const requests: DelayedStore["requests"] = [];
  const store = defineStore({
    kind: inner.kind,
    url: inner.url,
    listPages: (prefix, o) => inner.listPages(prefix, o),
    async get(key, o) {
      const request = { index: requests.length, key, range: o?.range, delayMs: 0, outcome: "pending" as const };
      const entry: DelayedStore["requests"][number] = request;
      requests.push(entry);
      const { onFirstByte, ...forwarded } = o ?? {};
      const data = await inner.get(key, forwarded);
      const transferMs = opts.bandwidth > 0 ? (data.byteLength / opts.bandwidth) * 1000 : 0;
      const firstByteMs = opts.latencyMs + (opts.slow?.(request) ?? 0);
      entry.delayMs = firstByteMs + transferMs;
      const sleep = (ms: number) =>
        (opts.clock ?? systemClock).sleep(ms, o?.signal).catch((err: unknown) => {
          throw o?.signal ? abortError(o.signal) : err;
        });
      try {
        if (opts.tellsFirstByte) {
          await sleep(firstByteMs);
          onFirstByte?.();
          await sleep(transferMs);
        } else await sleep(entry.delayMs);
      } catch (err) {
        entry.outcome = "aborted";
        throw err;
      }
      entry.outcome = "done";
      return data;
    },
    put: (key, body, o) => inner.put(key, body, o),
    delete: (key) => inner.delete(key),
    head: (key) => inner.head(key),
    putStream: (key, body, o) => inner.putStream(key, body, o),
    multipart: inner.multipart,
    close: () => inner.close(),
  });
  return Object.assign(store, { requests });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error && signal.reason.name === "AbortError" ? signal.reason : new DOMException("the GET was aborted", "AbortError");
}
