/**
 * The shuffle's manifest in object storage: how reducers learn which map outputs exist while
 * the map stage still runs. The coordinator publishes the winning attempt of each map task, then
 * a `_complete` marker with the count; reducers list the manifest prefix, read new entries as
 * they land, and stop once the marker is there and every entry was seen. This works the same
 * on every backend (threads, processes, Lambda, Fargate): no connection from worker to manager.
 */
import { systemClock, type Clock } from "../job/clock.js";
import { ValidationError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import type { ObjectStore } from "../storage/contract.js";
import { completeKey, completeSchema, manifestKey, manifestPrefix, mapOutputSchema, type MapOutput, type ShufflePlan } from "./layout.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Coordinator: records the winning output of a map task. */
export async function publishMapOutput(store: ObjectStore, plan: ShufflePlan, output: MapOutput): Promise<void> {
  await store.put(manifestKey(plan, output.task), encoder.encode(JSON.stringify(output)), { contentType: "application/json" });
}

/** Coordinator: no more map outputs will come; there are `mapTasks` in all. */
export async function publishComplete(store: ObjectStore, plan: ShufflePlan, mapTasks: number): Promise<void> {
  await store.put(completeKey(plan), encoder.encode(JSON.stringify({ mapTasks })), { contentType: "application/json" });
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** First wait between listings when nothing new arrived, ms; doubles up to `maxPollMs`. @default 50 */
  pollMs?: number;
  /** @default 1000 */
  maxPollMs?: number;
  /** Called on every wait (a task heartbeats here). */
  onWait?: () => void;
  /** Whose time the polling waits are (the runtime context's clock; a task passes `ctx.clock`). @default the system clock */
  clock?: Clock;
}

/** Reducer: yields every published map output once, as they land, until the stage is complete. */
export async function* watchMapOutputs(store: ObjectStore, plan: ShufflePlan, options: WatchOptions = {}): AsyncGenerator<MapOutput> {
  const seen = new Set<string>();
  const done = completeKey(plan);
  let expected: number | undefined;
  let delay = options.pollMs ?? 50;
  for (;;) {
    options.signal?.throwIfAborted();
    let fresh = 0;
    let completeSeen = false;
    for await (const info of store.list(manifestPrefix(plan), options.signal ? { signal: options.signal } : {})) {
      if (info.key === done) {
        completeSeen = true;
        continue;
      }
      if (seen.has(info.key)) continue;
      seen.add(info.key);
      fresh++;
      yield parseRecord(mapOutputSchema, await store.get(info.key), info.key);
    }
    if (completeSeen && expected === undefined) expected = parseRecord(completeSchema, await store.get(done), done).mapTasks;
    if (expected !== undefined && seen.size >= expected) return;
    if (fresh > 0) {
      delay = options.pollMs ?? 50;
      continue;
    }
    options.onWait?.();
    await (options.clock ?? systemClock).sleep(delay, options.signal);
    delay = Math.min(delay * 2, options.maxPollMs ?? 1000);
  }
}

function parseRecord<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import("zod").ZodError } }, bytes: Uint8Array, key: string): T {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new ValidationError(`shuffle manifest record ${key} is not JSON: the job's work prefix was changed by something else; rerun the job`, { cause: err });
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new ValidationError(`shuffle manifest record ${key} is malformed (${formatZodIssues(r.error)}): rerun the job`);
  return r.data;
}
