/**
 * What a command could not remove when it ended (the store was gone, or a second Ctrl-C forced
 * the exit): the job's registered temporaries (src/job/temporaries.ts), written to a record file
 * `<state dir>/<jobId>.json` while the job runs (so even a killed coordinator leaves one), kept
 * when something is left, deleted when nothing is. `smelter clean <jobId>` (src/cli/clean.ts)
 * reads it. The record holds URLs and the S3 endpoint, never credentials.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { describeTemporary, temporaries, type Temporary } from "../job/temporaries.js";

export const LEFTOVERS_FORMAT = "smelter-leftovers";

const temporarySchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("prefix"), store: z.string().min(1), prefix: z.string().min(1) }),
  z.strictObject({ kind: z.literal("upload"), store: z.string().min(1), key: z.string().min(1), uploadId: z.string().min(1), staging: z.string().min(1) }),
  z.strictObject({ kind: z.literal("dir"), path: z.string().min(1) }),
]);

export const leftoversRecordSchema = z.strictObject({
  format: z.literal(LEFTOVERS_FORMAT),
  version: z.literal(1),
  jobId: z.string().regex(/^[\w-]+$/),
  /** The S3 endpoint the job used (AWS_ENDPOINT_URL_S3), if any. */
  endpoint: z.string().optional(),
  items: z.array(temporarySchema),
});
export type LeftoversRecord = z.infer<typeof leftoversRecordSchema>;

/** Where records go: SMELTER_STATE_DIR, else $XDG_STATE_HOME/smelter/jobs, else ~/.local/state/smelter/jobs. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SMELTER_STATE_DIR) return env.SMELTER_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "smelter", "jobs");
}

export function recordPath(jobId: string): string {
  return join(stateDir(), `${jobId}.json`);
}

/**
 * Keeps `<state dir>/<jobId>.json` equal to this process's registered temporaries from now on
 * (written while any is registered, removed when none is). Returns the function that stops it.
 */
export function keepRecord(jobId: string): () => void {
  const write = (items: readonly Temporary[]) => {
    const file = recordPath(jobId);
    if (items.length === 0) return rmSync(file, { force: true });
    mkdirSync(stateDir(), { recursive: true });
    const record: LeftoversRecord = { format: LEFTOVERS_FORMAT, version: 1, jobId, ...(process.env.AWS_ENDPOINT_URL_S3 ? { endpoint: process.env.AWS_ENDPOINT_URL_S3 } : {}), items: [...items] };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  };
  write(temporaries.list());
  return temporaries.onChange(write);
}

/** The message for what is still registered, or undefined when nothing is. */
export function leftoversMessage(jobId: string | undefined, items: readonly Temporary[] = temporaries.list()): string | undefined {
  if (items.length === 0) return undefined;
  const lines = items.map((t) => `  - ${describeTemporary(t)}`);
  const how = jobId ? `remove them once the store answers again with:\n  smelter clean ${jobId}\n(the list is kept in ${recordPath(jobId)})` : "remove them by hand";
  return `[smelter] ${jobId ? `job ${jobId}` : "the command"} could not remove ${items.length === 1 ? "this temporary" : `these ${items.length} temporaries`}:\n${lines.join("\n")}\n${how}`;
}
