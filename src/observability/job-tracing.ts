/**
 * Tracing a job over OTLP, wired from outside the scheduler: the scheduler knows nothing of it.
 *  - {@link tracingConfig}: whether to trace, from `--otlp URL` or the standard OTEL_* variables;
 *  - {@link tracedBackend}: wraps a backend so each attempt's envelope carries its `traceparent`;
 *  - {@link traceJob}: follows a job's events, turns them into spans (span-model.ts) and exports
 *    them (otlp-export.ts, loaded only then);
 *  - {@link exportEventsTrace}: the same from an events file (`smelter report --otlp`).
 */
import type { Backend } from "../backends/contract.js";
import { ConfigError } from "../job/errors.js";
import type { SmelterEvent } from "../job/events.js";
import { systemClock } from "../job/clock.js";
import type { Job } from "../scheduler/job.js";
import type { OtlpSinkOptions } from "./otlp-export.js";
import { TraceBuilder } from "./span-model.js";
import { newTraceId, traceIdFromEvents } from "./trace-context.js";

export interface TracingConfig {
  /** The full OTLP/HTTP traces URL. */
  url: string;
}

/**
 * Where to send traces: `--otlp URL` (a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: `/v1/traces` is
 * appended unless the path already ends so), else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is),
 * else OTEL_EXPORTER_OTLP_ENDPOINT. None, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none: no tracing.
 */
export function tracingConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): TracingConfig | undefined {
  if (flag === undefined && (env.OTEL_SDK_DISABLED?.toLowerCase() === "true" || env.OTEL_TRACES_EXPORTER?.toLowerCase() === "none")) return undefined;
  const base = flag ?? (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? undefined : env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const raw = flag ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!raw) return undefined;
  const source = flag !== undefined ? "--otlp" : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ConfigError(`${source} is not a URL: "${raw}" (give the collector's OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318)`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`${source} must be an http:// or https:// URL (OTLP over HTTP), not "${raw}"`);
  if (base !== undefined && !url.pathname.endsWith("/v1/traces")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return { url: url.href };
}

/** The trace builder of each traced job in this process, by job id (read by traced backends at launch). */
const builders = new Map<string, TraceBuilder>();

/** `backend` with each attempt of a traced job launched with its `traceparent` in the envelope. */
export function tracedBackend(backend: Backend): Backend {
  const traced: Backend = {
    name: backend.name,
    get maxConcurrency() {
      return backend.maxConcurrency;
    },
    launch(envelope, listener) {
      const builder = builders.get(envelope.jobId);
      return backend.launch(builder ? { ...envelope, traceparent: builder.traceparentFor(envelope.attemptId) } : envelope, listener);
    },
    ...(backend.attach ? { attach: (host) => backend.attach!(host) } : {}),
    ...(backend.close ? { close: () => backend.close!() } : {}),
  };
  return traced;
}

export interface JobTracing {
  traceId: string;
  /** Ends the spans still open, sends what is queued (bounded wait) and releases the exporter. */
  stop(): Promise<void>;
}

type SinkOptions = Omit<OtlpSinkOptions, "url" | "clock">;

/** Traces `job`: its spans go to `config.url` as they end. */
export async function traceJob(job: Job, config: TracingConfig, o: SinkOptions & { backend?: string }): Promise<JobTracing> {
  const builder = new TraceBuilder(newTraceId(job.context.ids), { backend: o.backend, jobName: job.name });
  builders.set(job.id, builder);
  const pending: SmelterEvent[] = [];
  let sink: Awaited<ReturnType<typeof loadSink>> | undefined;
  const take = (e: SmelterEvent) => {
    if (e.type === "log" || e.type === "heartbeat") return;
    if (!sink) return void pending.push(e);
    const spans = builder.add(e);
    if (spans.length) sink.export(spans);
  };
  const off = job.events.on(take);
  try {
    sink = await loadSink({ ...o, url: config.url, clock: job.context.clock });
  } catch (err) {
    off();
    builders.delete(job.id);
    throw err;
  }
  for (const e of pending.splice(0)) take(e);
  return {
    traceId: builder.traceId,
    async stop() {
      off();
      builders.delete(job.id);
      const rest = builder.finish(job.context.clock.now());
      if (rest.length) sink!.export(rest);
      await sink!.close();
    },
  };
}

/** Exports the trace of a job from its events (an events file): the same spans as live, under a trace id derived from the events. Returns the trace id and the span count. */
export async function exportEventsTrace(events: readonly SmelterEvent[], config: TracingConfig, o: SinkOptions & { backend?: string }): Promise<{ traceId: string; spans: number }> {
  const first = events[0];
  if (!first) throw new ConfigError("the events file has no events: there is no trace to export");
  const builder = new TraceBuilder(traceIdFromEvents(first.jobId, first.time), { backend: o.backend });
  const spans = events.flatMap((e) => builder.add(e));
  spans.push(...builder.finish(events[events.length - 1]!.time));
  const sink = await loadSink({ ...o, url: config.url, clock: systemClock });
  sink.export(spans);
  await sink.close();
  return { traceId: builder.traceId, spans: spans.length };
}

async function loadSink(o: OtlpSinkOptions) {
  const { otlpSpanSink } = await import("./otlp-export.js");
  return otlpSpanSink(o);
}
