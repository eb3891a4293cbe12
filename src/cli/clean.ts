/**
 * `smelter clean <job id | events file | record file>`: removes what a job could not remove when
 * it ended (src/cli/leftovers.ts keeps the list): its work prefix (objects and multipart uploads
 * open under it), its output's open multipart upload and staging objects, its local temp
 * directories. What still cannot be removed stays listed, and the command fails saying why.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { ConfigError, SmelterError } from "../job/errors.js";
import { describeTemporary, type Temporary } from "../job/temporaries.js";
import { parseEvents } from "../job/event-schema.js";
import { removeTemporaryNow } from "../outputs/cleanup.js";
import { LEFTOVERS_FORMAT, leftoversRecordSchema, recordPath, stateDir, type LeftoversRecord } from "./leftovers.js";

export function register(program: Command): void {
  program
    .command("clean")
    .description("remove what a job left behind (its work prefix, open multipart uploads, temp dirs) when it could not clean up itself")
    .argument("<job>", "the job id (j1a2b3c, as the job's message printed it), its --events file, or its record file")
    .action(async (job: string) => {
      const { record, file } = readRecord(job);
      if (!record) {
        process.stderr.write(`[smelter] clean: nothing is recorded as left by ${job} (${file}): the job removed its temporaries itself, or they were cleaned already\n`);
        return;
      }
      // The endpoint the job used, unless this command was given one (--endpoint or AWS_ENDPOINT_URL_S3).
      if (record.endpoint && !process.env.AWS_ENDPOINT_URL_S3) process.env.AWS_ENDPOINT_URL_S3 = record.endpoint;
      const left: Temporary[] = [];
      const failures: string[] = [];
      for (const t of record.items) {
        try {
          process.stderr.write(`[smelter] clean: removed ${await removeTemporaryNow(t)}\n`);
        } catch (err) {
          left.push(t);
          failures.push(`${describeTemporary(t)}: ${(err as Error).message}`);
        }
      }
      if (left.length === 0) {
        rmSync(file, { force: true });
        process.stderr.write(`[smelter] clean: job ${record.jobId} left nothing behind now\n`);
        return;
      }
      writeFileSync(file, `${JSON.stringify({ ...record, items: left } satisfies LeftoversRecord, null, 2)}\n`);
      throw new SmelterError(`[smelter] clean: ${left.length} of ${record.items.length} could not be removed, still listed in ${file}:\n${failures.map((f) => `  - ${f}`).join("\n")}\ncheck that the store answers (the endpoint, credentials), then run smelter clean ${record.jobId} again`, { type: "CleanFailed" });
    });
}

/** The record named by `arg` (a job id, an events file or a record file), or undefined when none is kept. */
export function readRecord(arg: string): { record: LeftoversRecord | undefined; file: string } {
  const text = readText(arg);
  if (text === undefined) {
    if (!/^j[0-9a-z]+$/.test(arg)) throw new ConfigError(`[smelter] clean: "${arg}" is neither a job id (like j1a2b3) nor a file: pass the id the job's message printed, or its --events file`);
    return fromFile(recordPath(arg), arg);
  }
  if (text.trimStart().startsWith(`{"format":"smelter-events"`)) {
    const first = parseEvents(text, arg)[0];
    if (!first) throw new ConfigError(`[smelter] clean: the events file ${arg} has no events: the job never started, so it left nothing`);
    return fromFile(recordPath(first.jobId), first.jobId);
  }
  return fromFile(arg, arg, text);
}

function fromFile(file: string, name: string, text = readText(file)): { record: LeftoversRecord | undefined; file: string } {
  if (text === undefined) return { record: undefined, file };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const r = leftoversRecordSchema.safeParse(json);
  if (!r.success) throw new ConfigError(`[smelter] clean: ${file} is not a record of what a job left (a "${LEFTOVERS_FORMAT}" file in ${stateDir()}), nor an events file: pass the job id the message printed (${name})`);
  return { record: r.data, file };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENAMETOOLONG") return undefined;
    throw new ConfigError(`[smelter] clean: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}
