/**
 * The events file: a job's record, versioned and validated with zod, complete enough that the
 * stats, the attempts table and the report are rebuilt from the file alone (no live Job).
 *
 * Format (JSON lines): a header `{"format":"smelter-events","version":1}`, then one
 * {@link SmelterEvent} per line in emission order. Times are epoch ms on the scheduler's clock.
 * A reader refuses another format or a newer version with a message saying what to do.
 */
import { z } from "zod";
import { serializedErrorSchema, ValidationError } from "./errors.js";
import type { SmelterEvent } from "./events.js";
import { formatZodIssues } from "./policy.js";
import { attemptStatsSchema } from "./stats.js";

export const EVENTS_FORMAT = "smelter-events";
/** Bumped when an event changes incompatibly (a field removed or its meaning changed). */
export const EVENTS_VERSION = 1;

export const eventsHeaderSchema = z.object({ format: z.literal(EVENTS_FORMAT), version: z.number().int().min(1) });
export type EventsHeader = z.infer<typeof eventsHeaderSchema>;

const base = { time: z.number(), jobId: z.string() };
const stage = { ...base, stage: z.number().int(), stageName: z.string() };
const task = { ...stage, taskId: z.string() };
const attempt = { ...task, attemptId: z.string() };
const cause = z.enum(["initial", "retry", "speculation"]);
const rule = z.enum(["afterPercent", "lastTasks", "slowerThanMedian"]);
const counts = z.object({
  total: z.number(), queued: z.number(), running: z.number(), succeeded: z.number(), failed: z.number(),
  retried: z.number(), speculated: z.number(), noCapacity: z.number(), abandoned: z.number(), closed: z.boolean(),
});

/** One event, by type. */
export const smelterEventSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("job-started"), name: z.string(), backend: z.string().optional() }),
  z.object({ ...stage, type: z.literal("stage-started"), worker: z.string() }),
  z.object({ ...stage, type: z.literal("stage-closed"), tasks: z.number() }),
  z.object({ ...task, type: z.literal("task-queued") }),
  z.object({ ...attempt, type: z.literal("attempt-launched"), runtimeId: z.string(), cause, rule: rule.optional() }),
  z.object({ ...attempt, type: z.literal("attempt-running"), runtimeId: z.string(), cold: z.boolean(), capacity: z.object({ vcpu: z.number().positive().optional(), memoryGb: z.number().positive().optional(), spot: z.boolean().optional() }).optional() }),
  z.object({ ...attempt, type: z.literal("log"), stream: z.enum(["stdout", "stderr", "log"]), message: z.string() }),
  z.object({ ...attempt, type: z.literal("heartbeat"), details: z.unknown().optional() }),
  z.object({ ...task, type: z.literal("retry-scheduled"), nextAttempt: z.number(), delayMs: z.number(), reason: serializedErrorSchema }),
  z.object({ ...attempt, type: z.literal("speculation-launched"), rule, of: z.string() }),
  z.object({ ...attempt, type: z.literal("attempt-succeeded"), stats: attemptStatsSchema, won: z.boolean() }),
  z.object({ ...attempt, type: z.literal("attempt-failed"), error: serializedErrorSchema, retryable: z.boolean(), stats: attemptStatsSchema }),
  z.object({ ...attempt, type: z.literal("attempt-cancelled"), reason: z.string() }),
  z.object({ ...attempt, type: z.literal("attempt-no-capacity"), reason: z.string(), refusals: z.number(), delayMs: z.number(), relaunch: z.boolean(), stats: attemptStatsSchema }),
  z.object({ ...attempt, type: z.literal("kill-requested"), reason: z.string() }),
  z.object({ ...attempt, type: z.literal("kill-confirmed"), stats: attemptStatsSchema }),
  z.object({ ...attempt, type: z.literal("attempt-abandoned"), reason: z.string(), stats: attemptStatsSchema }),
  z.object({ ...attempt, type: z.literal("attempt-late-outcome"), status: z.enum(["succeeded", "failed", "no-capacity"]), stats: attemptStatsSchema }),
  z.object({ ...task, type: z.literal("task-succeeded"), attemptId: z.string() }),
  z.object({ ...task, type: z.literal("task-failed"), error: serializedErrorSchema }),
  z.object({ ...stage, type: z.literal("stage-done"), counts }),
  z.object({ ...base, type: z.literal("job-done"), status: z.enum(["succeeded", "failed", "cancelled"]), error: serializedErrorSchema.optional() }),
  z.object({ ...base, type: z.literal("listener-failed"), of: z.string(), error: serializedErrorSchema }),
]);

// The schema and the SmelterEvent type describe the same events (checked by the compiler).
type Parsed = z.infer<typeof smelterEventSchema>;
const _schemaCoversType: (e: SmelterEvent) => Parsed = (e) => e;
const _typeCoversSchema: (e: Parsed) => SmelterEvent = (e) => e;
void _schemaCoversType;
void _typeCoversSchema;

/** The header line of an events file. */
export function eventsHeaderLine(): string {
  return JSON.stringify({ format: EVENTS_FORMAT, version: EVENTS_VERSION } satisfies EventsHeader);
}

/** The event types this version knows; a line of another type (added later, compatibly) is skipped and counted. */
const KNOWN_TYPES: ReadonlySet<string> = new Set(smelterEventSchema.options.map((o) => o.shape.type.value));

/**
 * Reads an events file line by line (a whole text, a stream, a file being followed): the first
 * line must be the header (another format or a newer version is refused, saying what to do);
 * each event is validated with the schema; event types this version does not know are skipped
 * and counted in `unknown`. Errors are ValidationErrors naming the source and line.
 */
export class EventsReader {
  /** Lines skipped because their event type is unknown to this version. */
  unknown = 0;
  #sawHeader = false;
  constructor(readonly source: string) {}

  /** One line (numbered from 1): its event, or undefined for the header, a blank line or an unknown event type. */
  line(text: string, lineNo: number): SmelterEvent | undefined {
    if (text.trim() === "") return undefined;
    const where = `${this.source} line ${lineNo}`;
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ValidationError(`${where} is not JSON: it should be an events file written by --events FILE`, { cause: err });
    }
    if (!this.#sawHeader) {
      const header = eventsHeaderSchema.safeParse(value);
      if (!header.success) throw new ValidationError(`${this.source} is not a Smelter events file (its first line must be ${eventsHeaderLine()}): write it with --events FILE`);
      if (header.data.version > EVENTS_VERSION) throw new ValidationError(`${this.source} has events version ${header.data.version}, newer than this Smelter reads (${EVENTS_VERSION}): upgrade Smelter`);
      this.#sawHeader = true;
      return undefined;
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof type === "string" && !KNOWN_TYPES.has(type)) {
      this.unknown++;
      return undefined;
    }
    const r = smelterEventSchema.safeParse(value);
    if (!r.success) throw new ValidationError(`${where} is not a valid event: ${formatZodIssues(r.error)}`);
    return r.data as SmelterEvent;
  }

  /** Whether the header line has been read. */
  get started(): boolean {
    return this.#sawHeader;
  }
}

/** Parses an events file's text (header + JSON lines); throws a ValidationError naming the line. Unknown event types are skipped. */
export function parseEvents(text: string, source = "the events file"): SmelterEvent[] {
  const reader = new EventsReader(source);
  const events: SmelterEvent[] = [];
  text.split("\n").forEach((line, i) => {
    const e = reader.line(line, i + 1);
    if (e) events.push(e);
  });
  if (!reader.started) throw new ValidationError(`${source} is not a Smelter events file (its first line must be ${eventsHeaderLine()}): write it with --events FILE`);
  return events;
}

/** Validates one event (an object from JSON, or one collected live); undefined for an event type this version does not know. */
export function toEvent(value: unknown, where: string): SmelterEvent | undefined {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type === "string" && !KNOWN_TYPES.has(type)) return undefined;
  const r = smelterEventSchema.safeParse(value);
  if (!r.success) throw new ValidationError(`${where} is not a valid event: ${formatZodIssues(r.error)}`);
  return r.data as SmelterEvent;
}
