/**
 * The one place the job report reads events: a `--events` file, or events collected live.
 * Everything else in the report (timeline, stage summaries, critical path, cost, HTML) works on
 * the {@link SmelterEvent}s from here. Files are read with the events file's own reader
 * (src/job/event-schema.ts: header and version checked, every event validated with zod, event
 * types added by a later version skipped and counted).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { ConfigError } from "../job/errors.js";
import type { SmelterEvent } from "../job/events.js";
import { EventsReader, toEvent } from "../job/event-schema.js";

/** What the report reads: the job's events (kept as the name other report modules use). */
export type ReportEvent = SmelterEvent;

export interface EventInput {
  events: SmelterEvent[];
  /** Lines whose event type this version does not know (skipped). */
  unknown: number;
}

/** Events as the live bus gives them (already typed), in order. */
export function fromLiveEvents(events: readonly SmelterEvent[]): EventInput {
  return { events: [...events], unknown: 0 };
}

/** Validates parsed JSON values (one per event) as events, in time order; `where(i)` names a bad one. */
export function fromJsonValues(values: readonly unknown[], where: (i: number) => string = (i) => `event ${i + 1}`): EventInput {
  const events: SmelterEvent[] = [];
  let unknown = 0;
  values.forEach((v, i) => {
    const e = toEvent(v, where(i));
    if (e) events.push(e);
    else unknown++;
  });
  events.sort((a, b) => a.time - b.time); // stable: same-time events keep their order
  return { events, unknown };
}

/** Reads a `--events FILE` (as `smelter ... --events FILE` writes it), streaming. */
export async function readEventsFile(path: string): Promise<EventInput> {
  const reader = new EventsReader(path);
  const events: SmelterEvent[] = [];
  let lineNo = 0;
  try {
    const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
    for await (const line of lines) {
      const e = reader.line(line, ++lineNo);
      if (e) events.push(e);
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("[smelter]")) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `no events file at ${path}: write one with --events FILE on query2, sql or pi` : `cannot read events file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (events.length + reader.unknown === 0) throw new ConfigError(`${path} holds no events: write one with --events FILE on query2, sql or pi`);
  events.sort((a, b) => a.time - b.time); // stable: same-time events keep their order
  return { events, unknown: reader.unknown };
}

/** The backend a job ran on, when the stream says so (`backend` on job-started), else guessed from runtime ids. */
export function backendOf(events: readonly SmelterEvent[]): string | undefined {
  for (const e of events) if (e.type === "job-started" && e.backend) return e.backend;
  for (const e of events) {
    if (e.type !== "attempt-running") continue;
    if (e.runtimeId.startsWith("thread-")) return "threads";
    if (e.runtimeId.startsWith("pid-")) return "processes";
    if (e.runtimeId.startsWith("inline-")) return "inline";
  }
  return undefined;
}
