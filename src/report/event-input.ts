/**
 * The one place the job report reads events: a `--events` JSON-lines file, or events collected
 * live. Everything else in the report (timeline, stage summaries, critical path, cost, HTML)
 * works on {@link ReportEvent}s from here, so switching to a new event schema means changing
 * this file only.
 *
 * Tolerant on purpose: fields and event types added later (kill requested / confirmed /
 * abandoned, counters on every ending) are read when present and not required; event types it
 * does not know are skipped and counted.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { AttemptStats } from "../job/stats.js";
import { ConfigError } from "../job/errors.js";
import type { SmelterEvent } from "../job/events.js";
import { EVENTS_VERSION, eventsHeaderSchema } from "../job/event-schema.js";

/** Events about stopping an attempt (read when the stream has them). */
export type KillEvent = {
  type: "attempt-kill-requested" | "attempt-kill-confirmed" | "attempt-abandoned";
  time: number;
  jobId: string;
  stage: number;
  stageName: string;
  taskId: string;
  attemptId: string;
  reason?: string;
};

export type ReportEvent = SmelterEvent | KillEvent;

const KNOWN_TYPES = new Set<string>([
  "job-started", "stage-started", "stage-closed", "task-queued", "attempt-launched", "attempt-running", "log", "heartbeat",
  "retry-scheduled", "speculation-launched", "attempt-succeeded", "attempt-failed", "attempt-cancelled", "task-succeeded",
  "task-failed", "stage-done", "job-done", "attempt-kill-requested", "attempt-kill-confirmed", "attempt-abandoned",
]);

/** The least every line must have; the rest is read where used, tolerating what is missing. */
const lineSchema = z.looseObject({
  type: z.string(),
  time: z.number(),
  jobId: z.string().optional(),
});

export interface EventInput {
  events: ReportEvent[];
  /** Lines whose event type this version does not know (skipped). */
  unknown: number;
}

/** Events as the live bus gives them (already typed), in order. */
export function fromLiveEvents(events: readonly SmelterEvent[]): EventInput {
  return { events: [...events], unknown: 0 };
}

/** One parsed JSON value as a report event; undefined for an event type this version does not know. */
export function toReportEvent(value: unknown, where: string): ReportEvent | undefined {
  const r = lineSchema.safeParse(value);
  if (!r.success) throw new ConfigError(`${where} is not a Smelter event (needs "type" and a numeric "time"): ${r.error.issues.map((x) => `${x.path.join(".") || "value"}: ${x.message}`).join("; ")}`);
  return KNOWN_TYPES.has(r.data.type) ? (r.data as unknown as ReportEvent) : undefined;
}

/** One line of an events file as a report event (see {@link toReportEvent}). */
export function parseEventLine(line: string, where: string): ReportEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ConfigError(`${where} is not JSON: it should be an events file written by --events FILE`, { cause: err });
  }
  if (eventsHeaderSchema.safeParse(value).success) return undefined; // the file's header line
  return toReportEvent(value, where);
}

/** Turns parsed JSON values (one per event) into report events; `where(i)` names a bad one. */
export function fromJsonValues(values: readonly unknown[], where: (i: number) => string = (i) => `event ${i + 1}`): EventInput {
  const events: ReportEvent[] = [];
  let unknown = 0;
  values.forEach((v, i) => {
    const e = toReportEvent(v, where(i));
    if (e) events.push(e);
    else unknown++;
  });
  events.sort((a, b) => a.time - b.time); // stable: same-time events keep their order
  return { events, unknown };
}

/** Reads a `--events FILE` (JSON lines, as `smelter ... --events FILE` writes it). */
export async function readEventsFile(path: string): Promise<EventInput> {
  const events: ReportEvent[] = [];
  let unknown = 0;
  let lineNo = 0;
  try {
    const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      if (events.length + unknown === 0 && isHeaderLine(line, path)) continue;
      const e = parseEventLine(line, `${path} line ${lineNo}`);
      if (e) events.push(e);
      else unknown++;
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `no events file at ${path}: write one with --events FILE on query2, sql or pi` : `cannot read events file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (events.length + unknown === 0) throw new ConfigError(`${path} holds no events: write one with --events FILE on query2, sql or pi`);
  events.sort((a, b) => a.time - b.time); // stable: same-time events keep their order
  return { events, unknown };
}

/** Whether `line` is the events file's versioned header (`{"format":"smelter-events","version":1}`); a newer version is refused. */
function isHeaderLine(line: string, path: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  const header = eventsHeaderSchema.safeParse(value);
  if (!header.success) return false;
  if (header.data.version > EVENTS_VERSION) throw new ConfigError(`${path} was written by a newer Smelter (events format version ${header.data.version}; this one reads up to ${EVENTS_VERSION}): report it with that version`);
  return true;
}

/** The stats an ending event carries, when it carries them (successes now; every ending later). */
export function endingStats(e: ReportEvent): AttemptStats | undefined {
  if (e.type === "attempt-succeeded") return e.stats;
  const stats = (e as { stats?: unknown }).stats;
  return stats && typeof stats === "object" && "counters" in stats ? (stats as AttemptStats) : undefined;
}

/** The backend a job ran on, when the stream says so (`backend` on job-started), else guessed from runtime ids. */
export function backendOf(events: readonly ReportEvent[]): string | undefined {
  for (const e of events) {
    if (e.type === "job-started") {
      const b = (e as { backend?: unknown }).backend;
      if (typeof b === "string") return b;
    }
  }
  for (const e of events) {
    if (e.type !== "attempt-running") continue;
    if (e.runtimeId.startsWith("thread-")) return "threads";
    if (e.runtimeId.startsWith("pid-")) return "processes";
    if (e.runtimeId.startsWith("inline-")) return "inline";
  }
  return undefined;
}
