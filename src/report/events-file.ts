/**
 * `--events FILE`: a job's events as JSON lines after a versioned header (see
 * src/job/event-schema.ts), and reading them back, so that stats, the attempts table and the
 * report are rebuilt from the file alone.
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { once } from "node:events";
import { eventsHeaderLine, parseEvents } from "../job/event-schema.js";
import type { SmelterEvent } from "../job/events.js";

/** Writes every event of `job` to `path`; resolves once the file is flushed after job-done. */
export function writeEventsFile(job: { events: { on(l: (e: SmelterEvent) => void): () => void } }, path: string): Promise<void> {
  const out = createWriteStream(path, { flags: "w" });
  const finished = once(out, "finish").then(
    () => undefined,
    (err: unknown) => {
      off();
      throw err;
    },
  );
  finished.catch(() => undefined); // the caller awaits it after the job: not an unhandled rejection meanwhile
  out.write(`${eventsHeaderLine()}\n`);
  const off = job.events.on((e: SmelterEvent) => {
    out.write(`${JSON.stringify(e)}\n`);
    if (e.type === "job-done") {
      off();
      out.end();
    }
  });
  return finished;
}

/** Reads and validates an events file; throws a ValidationError naming the bad line. */
export async function readEventsFile(path: string): Promise<SmelterEvent[]> {
  return parseEvents(await readFile(path, "utf8"), path);
}
