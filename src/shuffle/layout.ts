/**
 * Where a shuffle lives in object storage, and what its small JSON records look like.
 *
 * Layout (Starling-style: one object per map attempt, not one per (task, partition)):
 *   <prefix>s<stage>/t<task>-a<attempt>.seg     R partition segments back to back
 *   <prefix>s<stage>/manifest/t<task>.json      written by the coordinator for the WINNING attempt
 *   <prefix>s<stage>/manifest/_complete.json    written when no more map outputs will come
 * A reducer reads its partition from each map output with one ranged GET, using the offsets in
 * the manifest entry. Why one object per map attempt: M PUTs instead of M x R (S3 charges and
 * throttles per request; at R = 64 and 1,000 map tasks that is 1,000 objects, not 64,000), and a
 * reducer's read is still a single ranged GET per map output. Attempts write under their own
 * key, and only winners are listed in the manifest, so retries and speculative duplicates never
 * count twice. The whole prefix is deleted when the job ends, whatever its outcome.
 */
import { z } from "zod";

export const shufflePlanSchema = z.object({
  /** The store holding the shuffle (URL), e.g. `s3://bucket/_smelter/` or `file:///tmp/work`. */
  storeUrl: z.string().min(1),
  /** Key prefix of this job's shuffle inside the store, ending in `/`. */
  prefix: z.string().regex(/\/$/, "a shuffle prefix ends with /"),
  /** The map stage's number. */
  stage: z.number().int().min(1),
  /** R: partitions = reduce tasks. */
  partitions: z.number().int().min(1).max(100_000),
  /** Segment format, e.g. `parquet` or `ndjson`. */
  format: z.string().min(1),
});
export type ShufflePlan = z.infer<typeof shufflePlanSchema>;

/** What a map attempt wrote: its object and where each partition's segment starts and ends. */
export const mapOutputSchema = z
  .object({
    task: z.number().int().min(0),
    attempt: z.number().int().min(1),
    key: z.string().min(1),
    /** R + 1 ascending byte offsets: segment r is [offsets[r], offsets[r + 1]). */
    offsets: z.array(z.number().int().min(0)),
    /** Rows (records) in each segment, when known. */
    rows: z.array(z.number().int().min(0)).optional(),
  })
  .refine((o) => o.offsets.every((v, i) => i === 0 || v >= o.offsets[i - 1]!), "offsets must ascend");
export type MapOutput = z.infer<typeof mapOutputSchema>;

export const completeSchema = z.object({ mapTasks: z.number().int().min(0) });

const stageDir = (plan: ShufflePlan) => `${plan.prefix}s${String(plan.stage).padStart(2, "0")}/`;

export function mapOutputKey(plan: ShufflePlan, task: number, attempt: number): string {
  return `${stageDir(plan)}t${String(task).padStart(5, "0")}-a${attempt}.seg`;
}

export function manifestPrefix(plan: ShufflePlan): string {
  return `${stageDir(plan)}manifest/`;
}

export function manifestKey(plan: ShufflePlan, task: number): string {
  return `${manifestPrefix(plan)}t${String(task).padStart(5, "0")}.json`;
}

export function completeKey(plan: ShufflePlan): string {
  return `${manifestPrefix(plan)}_complete.json`;
}
