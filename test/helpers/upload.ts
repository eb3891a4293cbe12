/** Helpers of the parallel-upload tests: expected bytes, object digests, "nothing left" checks. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { ParallelUploadHandle } from "../../src/outputs/upload-protocol.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { generateBytes } from "../../src/builtin-workers/upload-partition.js";

export const MiB = 1024 * 1024;

export interface GenSource {
  kind: "generate";
  bytes: number;
  seed: number;
}

export const gen = (sizes: number[], seed0 = 1): GenSource[] => sizes.map((bytes, i) => ({ kind: "generate", bytes, seed: seed0 + i }));

/** sha256 of the partitions' bytes, concatenated in partition order. */
export async function expectedSha(sources: { bytes: number; seed: number }[]): Promise<string> {
  const h = createHash("sha256");
  for (const s of sources) for await (const c of generateBytes(s.seed, s.bytes)) h.update(c);
  return h.digest("hex");
}

export async function objectSha(store: ObjectStore, key: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of store.getStream(key)) h.update(c);
  return h.digest("hex");
}

export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

/**
 * After a failed or cancelled upload: no object, no staging object, and (when the store can
 * tell) no open upload and ListParts answers NoSuchUpload.
 */
export async function assertNothingLeft(store: ObjectStore, handle: ParallelUploadHandle, canList: boolean): Promise<void> {
  assert.equal(await store.head(handle.key), undefined, "no object was created");
  assert.deepEqual(await keysUnder(store, handle.stagingPrefix), [], "the staging prefix is empty");
  if (!canList) return;
  const open = await store.multipart!.listUploads(handle.key);
  assert.deepEqual(open.filter((u) => u.uploadId === handle.uploadId), [], "the upload is not open any more");
  await assert.rejects(store.multipart!.listParts(handle.key, handle.uploadId), { type: "NoSuchUpload" });
}
