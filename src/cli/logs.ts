/**
 * `smelter logs <events file> [--task T] [--follow]`: the workers' log lines of a job (and each
 * failed attempt's error) from its `--events` file, oldest first; `--follow` keeps reading the
 * file as the job writes it, until the job is done.
 */
import type { Command } from "commander";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { EventsReader } from "../job/event-schema.js";
import { systemContext } from "../job/runtime-context.js";
import type { SmelterEvent } from "../job/events.js";
import { parseFlags } from "./common.js";

export const logsFlagsSchema = z.object({
  events: z.string().min(1),
  task: z.string().min(1).optional(),
  follow: z.boolean().default(false),
});
export type LogsFlags = z.output<typeof logsFlagsSchema>;

export function register(program: Command): void {
  program
    .command("logs")
    .description("Print the workers' log lines (and failed attempts' errors) of a job from its --events file")
    .argument("<events>", "the events file a job writes with --events FILE")
    .option("--task <id>", "only this task or attempt: a full id, or its end such as t00042 or s01-t00042-a2")
    .option("-f, --follow", "keep printing as the job writes the file, until it is done")
    .action(async (events: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(logsFlagsSchema, { ...raw, events });
      await printLogs(flags, (line) => process.stdout.write(`${line}\n`));
    });
}

/** What `smelter logs` prints for one event, or undefined. */
export function logLine(e: SmelterEvent, task?: string): string | undefined {
  if (e.type !== "log" && e.type !== "attempt-failed") return undefined;
  if (task && !(e.taskId === task || e.attemptId === task || e.taskId.endsWith(`-${task}`) || e.attemptId.endsWith(`-${task}`))) return undefined;
  const at = new Date(e.time).toISOString().slice(11, 23);
  if (e.type === "log") return `${at} ${e.attemptId} ${e.stream}: ${e.message}`;
  return `${at} ${e.attemptId} failed${e.retryable ? " (will retry)" : ""}: ${e.error.name}: ${e.error.message}`;
}

/** Reads the file (following it with `flags.follow` until job-done) and hands each line to `print`. */
export async function printLogs(flags: LogsFlags, print: (line: string) => void, pollMs = 200): Promise<void> {
  let file;
  try {
    file = await open(flags.events, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `no events file at ${flags.events}: start the job with --events ${flags.events}` : `cannot read ${flags.events}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const buffer = Buffer.alloc(1 << 16);
    const decoder = new StringDecoder("utf8"); // a character may be split between two reads
    let position = 0;
    let pending = "";
    let lineNo = 0;
    const reader = new EventsReader(flags.events);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) {
        if (!flags.follow) break;
        await systemContext().clock.sleep(pollMs);
        continue;
      }
      position += bytesRead;
      const lines = (pending + decoder.write(buffer.subarray(0, bytesRead))).split("\n");
      pending = lines.pop() ?? "";
      let done = false;
      for (const line of lines) {
        const e = reader.line(line, ++lineNo);
        if (!e) continue;
        const out = logLine(e, flags.task);
        if (out !== undefined) print(out);
        if (e.type === "job-done") done = true;
      }
      if (done) break;
    }
  } finally {
    await file.close();
  }
}
