/**
 * Exports {@link SpanRecord}s over OTLP/HTTP (JSON) with the official OpenTelemetry JS packages:
 * @opentelemetry/sdk-trace (tracer provider, batch processor), @opentelemetry/exporter-trace-otlp-http
 * and @opentelemetry/resources. Loaded with `import()` only when a job is traced: a run without
 * an OTLP endpoint never loads them (their import measured 0.5-0.8 s and 2.2 MB of heap on a loaded 2-core machine; docs/report.md).
 *
 * Spans keep Smelter's ids (trace-context.ts): a one-shot IdGenerator hands the SDK the id of
 * the span being created. Times are passed as HrTime (epoch), never as numbers the SDK could take
 * for `performance.now()` offsets.
 *
 * An endpoint that fails is reported once (`warn`); the job never waits for it: spans are sent
 * in the background in batches, and `close` waits at most `flushTimeoutMs`.
 */
import type { Clock } from "../job/clock.js";
import type { SpanRecord } from "./span-model.js";

export interface OtlpSinkOptions {
  /** The full traces URL (`http://host:4318/v1/traces`). */
  url: string;
  /** Times `close`'s wait (the runtime context's clock). */
  clock: Clock;
  /** Called at most once, when an export fails or `close` times out. */
  warn: (message: string) => void;
  /** `service.name` of the resource. @default OTEL_SERVICE_NAME, else `smelter` */
  serviceName?: string;
  /** One export request's time limit (retries included). @default 2000 */
  exportTimeoutMs?: number;
  /** How long `close` waits for spans still queued. @default 2500 (the export time limit, and a little) */
  flushTimeoutMs?: number;
}

export interface SpanSink {
  /** Queues spans for export (never blocks, never throws). */
  export(spans: readonly SpanRecord[]): void;
  /** Sends what is queued, waiting at most the flush timeout; then releases the exporter. */
  close(): Promise<void>;
}

/** Spans queued at most; more are dropped (and counted in the warning) rather than held in memory. */
export const MAX_QUEUED_SPANS = 100_000;

export async function otlpSpanSink(o: OtlpSinkOptions): Promise<SpanSink> {
  const [api, sdk, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  let warned = false;
  const warnOnce = (message: string) => {
    if (warned) return;
    warned = true;
    o.warn(message);
  };
  const otlp = new OTLPTraceExporter({ url: o.url, timeoutMillis: o.exportTimeoutMs ?? 2000, keepAlive: false });
  let exported = 0;
  let failed = 0;
  const exporter: import("@opentelemetry/sdk-trace").SpanExporter = {
    export(spans, done) {
      otlp.export(spans, (result) => {
        if (result.code === 0) exported += spans.length;
        else {
          failed += spans.length;
          warnOnce(`could not export the job's trace to ${o.url} (${result.error?.message ?? "export failed"}); the job goes on without it`);
        }
        done(result);
      });
    },
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  // The id of the span being created, handed to the SDK by the next generate call.
  const next = { traceId: "", spanId: "" };
  const idGenerator = { generateTraceId: () => next.traceId, generateSpanId: () => next.spanId };
  const processor = new sdk.BatchSpanProcessor({ exporter, maxQueueSize: MAX_QUEUED_SPANS, maxExportBatchSize: 2048, scheduledDelayMillis: 500, exportTimeoutMillis: o.exportTimeoutMs ?? 2000 });
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ "service.name": o.serviceName ?? process.env.OTEL_SERVICE_NAME ?? "smelter" }),
    idGenerator,
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer("smelter");
  const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
  let queued = 0;

  return {
    export(spans) {
      for (const s of spans) {
        queued++;
        next.traceId = s.traceId;
        next.spanId = s.spanId;
        const parent = s.parentSpanId
          ? api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: api.TraceFlags.SAMPLED })
          : api.ROOT_CONTEXT;
        const span = tracer.startSpan(s.name, { kind: api.SpanKind.INTERNAL, startTime: hr(s.startMs), attributes: s.attributes }, parent);
        for (const ev of s.events ?? []) span.addEvent(ev.name, ev.attributes ?? {}, hr(ev.timeMs));
        if (s.status !== "unset") span.setStatus(s.status === "ok" ? { code: api.SpanStatusCode.OK } : { code: api.SpanStatusCode.ERROR, ...(s.message ? { message: s.message } : {}) });
        span.end(hr(Math.max(s.endMs, s.startMs)));
      }
    },
    async close() {
      const limit = o.flushTimeoutMs ?? 2500;
      let timer: ReturnType<Clock["setTimeout"]> | undefined;
      const timedOut = await Promise.race([
        provider.shutdown().then(() => false, () => false),
        new Promise<boolean>((resolve) => (timer = o.clock.setTimeout(() => resolve(true), limit, { unref: true }))),
      ]);
      if (timer !== undefined) o.clock.clearTimeout(timer);
      if (timedOut) warnOnce(`the job's trace was not fully sent to ${o.url} within ${limit} ms (${exported} of ${queued} spans sent); the command did not wait longer`);
      else if (exported + failed < queued && !warned) warnOnce(`${queued - exported} of the job's ${queued} spans were not exported to ${o.url}`);
    },
  };
}
