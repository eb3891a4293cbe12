/**
 * Storage calls of a traced attempt, recorded as spans in the worker and shipped back with the
 * attempt's stats (`stats.spans`); the manager exports them as children of the attempt's span
 * (src/observability/). Recording is plain data: no OpenTelemetry package is loaded in workers,
 * so a Lambda or container worker needs no route to the collector and pays nothing at cold start,
 * and the spans land in the events file too, where `smelter report --otlp` finds them.
 *
 * An attempt is traced when its envelope carries a sampled `traceparent`. Calls are attributed
 * to the attempt through AsyncLocalStorage, so stores shared by the tasks of a warm worker are
 * attributed to the right attempt even when several run at once (the inline backend).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { TRACEPARENT_RE } from "../job/attempt.js";
import type { RuntimeContext } from "../job/runtime-context.js";
import type { AttemptStats, RecordedSpan } from "../job/stats.js";
import { setStorageCallObserver, type StorageCall } from "../job/storage-calls.js";

/** Spans kept per attempt; later calls are counted in `spansDropped`. */
export const MAX_SPANS_PER_ATTEMPT = 256;

const current = new AsyncLocalStorage<StorageSpanRecorder>();
let installed = false;

export class StorageSpanRecorder {
  readonly spans: RecordedSpan[] = [];
  dropped = 0;
  constructor(private readonly context: Pick<RuntimeContext, "clock" | "ids">) {}

  /** Runs the worker function with its storage calls recorded here. */
  run<T>(f: () => Promise<T> | T): Promise<T> {
    return current.run(this, async () => f());
  }

  begin(call: StorageCall): ((end: { bytes?: number; error?: unknown }) => void) | undefined {
    if (this.spans.length >= MAX_SPANS_PER_ATTEMPT) {
      this.dropped++;
      return undefined;
    }
    const startedAt = this.context.clock.now();
    return (end) => {
      const span: RecordedSpan = {
        spanId: this.context.ids.hex(16),
        name: `storage ${call.op}`,
        startedAt,
        endedAt: this.context.clock.now(),
        attributes: { "smelter.storage.op": call.op, "smelter.storage.url": call.url, "smelter.storage.key": call.key, ...(end.bytes !== undefined ? { "smelter.storage.bytes": end.bytes } : {}) },
      };
      if (end.error !== undefined) span.error = end.error instanceof Error ? `${end.error.name}: ${end.error.message}` : String(end.error);
      this.spans.push(span);
    };
  }

  /** Puts the recorded spans on the attempt's stats. */
  attachTo(stats: AttemptStats): AttemptStats {
    stats.spans = this.spans.slice().sort((a, b) => a.startedAt - b.startedAt);
    if (this.dropped) stats.spansDropped = this.dropped;
    return stats;
  }
}

/** A recorder for an attempt whose envelope carries a sampled `traceparent`; undefined otherwise (nothing is recorded). */
export function storageSpanRecorder(traceparent: string | undefined, context: Pick<RuntimeContext, "clock" | "ids">): StorageSpanRecorder | undefined {
  const flags = traceparent === undefined ? undefined : TRACEPARENT_RE.exec(traceparent)?.[3];
  if (flags === undefined || (parseInt(flags, 16) & 1) === 0) return undefined;
  if (!installed) {
    installed = true;
    setStorageCallObserver((call) => current.getStore()?.begin(call));
  }
  return new StorageSpanRecorder(context);
}
