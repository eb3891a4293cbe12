/**
 * The coordinator's half of the part rule (docs/parallel-upload.md): check the tasks' results,
 * then walk the partitions in order, merging runs of small (staged) partitions into parts of at
 * least `partSize`. A run that reaches `partSize` becomes the part numbered by its first
 * partition's head number; a run still short when a large partition follows is prepended to that
 * partition's staged head and re-uploaded under its head number (replacing the task's head); a
 * run at the end is the last part, of any size.
 */
import { createHash } from "node:crypto";
import type { LimitFunction } from "p-limit";
import { ValidationError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import type { ObjectStore } from "../storage/contract.js";
import { requireMultipart } from "./upload-partition.js";
import { bodyPart, headPart, isLarge, partitionResultSchema, type ParallelUploadHandle, type PartitionResult } from "./upload-protocol.js";

/** Validates every result and returns them in partition order (one per partition). */
export function checkResults(h: ParallelUploadHandle, results: readonly unknown[]): PartitionResult[] {
  const bad = (msg: string): never => {
    throw new ValidationError(`parallel upload of "${h.key}": ${msg}`);
  };
  if (results.length !== h.partitions) bad(`got ${results.length} task results for ${h.partitions} partitions: pass one result per partition (the winning attempt's output)`);
  const out: (PartitionResult | undefined)[] = new Array(h.partitions).fill(undefined);
  results.forEach((raw, i) => {
    const r = partitionResultSchema.safeParse(raw);
    if (!r.success) return bad(`result #${i} is not a partition result: ${formatZodIssues(r.error)}`);
    const p = r.data;
    const where = `partition ${p.partition}`;
    if (p.partition >= h.partitions) bad(`${where} is outside 0..${h.partitions - 1}`);
    if (out[p.partition]) bad(`${where} has two results: pass only the winning attempt's`);
    if (!p.staged || !p.staged.key.startsWith(h.stagingPrefix)) bad(`${where} has no staged object under "${h.stagingPrefix}"`);
    const stagedSize = p.staged?.size;
    if (isLarge(p.size, h.partSize)) {
      const [head, body] = p.parts;
      const ok =
        head?.partNumber === headPart(p.partition) &&
        head.size === h.partSize &&
        body?.partNumber === bodyPart(p.partition) &&
        head.size + body.size === p.size &&
        stagedSize === h.partSize;
      if (!ok) bad(`${where} (${p.size} bytes) must have a ${h.partSize}-byte head part ${headPart(p.partition)}, a body part ${bodyPart(p.partition)} and a staged head`);
    } else if (p.parts.length !== 0 || stagedSize !== p.size) {
      bad(`${where} (${p.size} bytes, under ${2 * h.partSize}) must upload no part and stage all its bytes`);
    }
    out[p.partition] = p;
  });
  return out.map((r, i) => r ?? bad(`partition ${i} has no result`));
}

export interface AssembledParts {
  parts: { partNumber: number; etag: string; size: number }[];
  coordinatorParts: number;
  coordinatorBytes: number;
}

/** Uploads the merged parts (at most `limit`'s concurrency at once) and returns the final part list in order. */
export async function assembleParts(store: ObjectStore, h: ParallelUploadHandle, results: PartitionResult[], limit: LimitFunction, signal?: AbortSignal): Promise<AssembledParts> {
  const mp = requireMultipart(store, h.key);
  const final: Promise<{ partNumber: number; etag: string; size: number }>[] = [];
  let coordinatorParts = 0;
  let coordinatorBytes = 0;
  let run: PartitionResult[] = [];
  let runBytes = 0;

  const readStaged = async (key: string, size: number, md5: string, what: string): Promise<Uint8Array> => {
    const data = await store.get(key, { signal });
    const got = createHash("md5").update(data).digest("hex");
    if (data.byteLength !== size || got !== md5)
      throw new ValidationError(`parallel upload of "${h.key}": staged ${what} "${key}" has ${data.byteLength} bytes with MD5 ${got}, expected ${size} bytes with MD5 ${md5}: it was changed after the task finished; run the job again`);
    return data;
  };
  /** Uploads the current run (plus a large partition's staged head) as part `partNumber`. */
  const flush = (partNumber: number, large?: PartitionResult): void => {
    const members = run;
    run = [];
    runBytes = 0;
    coordinatorParts++;
    final.push(
      limit(async () => {
        const pieces = members.map((r) => readStaged(r.staged!.key, r.size, r.md5, `partition ${r.partition}`));
        if (large) pieces.push(readStaged(large.staged!.key, h.partSize, large.parts[0]!.md5, `head of partition ${large.partition}`));
        const data = Buffer.concat(await Promise.all(pieces));
        const contentMd5 = createHash("md5").update(data).digest("base64");
        const up = await mp.uploadPart(h.key, h.uploadId, partNumber, data, { contentMd5, signal });
        coordinatorBytes += data.byteLength;
        return { partNumber, etag: up.etag, size: data.byteLength };
      }),
    );
  };

  for (const r of results) {
    if (r.parts.length === 0) {
      if (r.size === 0) continue; // an empty partition adds nothing
      run.push(r);
      runBytes += r.size;
      if (runBytes >= h.partSize) flush(headPart(run[0]!.partition));
      continue;
    }
    const [head, body] = r.parts as [PartitionResult["parts"][number], PartitionResult["parts"][number]];
    if (runBytes > 0) flush(headPart(r.partition), r);
    else final.push(Promise.resolve(head));
    final.push(Promise.resolve(body));
  }
  if (runBytes > 0) flush(headPart(run[0]!.partition));

  const settled = await Promise.allSettled(final);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  const parts = settled.map((s) => (s as PromiseFulfilledResult<{ partNumber: number; etag: string; size: number }>).value);
  return { parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size })), coordinatorParts, coordinatorBytes };
}
