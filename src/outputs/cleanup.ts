/**
 * Removing a job's temporaries (src/job/temporaries.ts): what a job's own cleanup and
 * `smelter clean` both do.
 * - a prefix: every object under it, and every multipart upload still open under it (a segment
 *   streamed by an attempt killed midway); on a local store, the directory itself too;
 * - an upload: aborted (verified as abortParallelUpload does), its staging objects deleted;
 * - a local directory: removed whole.
 * Throws when a piece cannot be removed (the store is unreachable): the caller keeps it listed.
 */
import { rm } from "node:fs/promises";
import { systemContext, type Clock } from "../job/runtime-context.js";
import { joinUrl, type Temporary } from "../job/temporaries.js";
import type { ObjectStore } from "../storage/contract.js";
import { removeEmptyInternalDir, removeTempFilesUnder } from "../storage/local.js";
import { openRootStore } from "../storage/url.js";
import { abortParallelUpload } from "./parallel-upload.js";

/** How long a write sent by an attempt stopped midway may take to land after the stop (as abortParallelUpload waits). */
const LATE_WRITE_GRACE_MS = 300;

/**
 * Removes `t` with `store` (opened from `t.store` when not given); returns what was removed, in
 * words. `afterStop`: the job was stopped midway, so a prefix is swept again after a short grace
 * (a segment PUT sent by an attempt just killed may land on the server after the first sweep),
 * waiting on `clock` (the job's: virtual in a simulation).
 */
export async function removeTemporaryNow(t: Temporary, given?: ObjectStore, options: { afterStop?: boolean; clock?: Clock } = {}): Promise<string> {
  if (t.kind === "dir") {
    await rm(t.path, { recursive: true, force: true });
    return `the local directory ${t.path}`;
  }
  const store = given ?? (await openRootStore(t.store));
  try {
    if (t.kind === "prefix") {
      let aborted = await abortUploadsUnder(store, t.prefix);
      let deleted = await store.deletePrefix(t.prefix); // throws when the store does not answer
      // A local store's temp files of PUTs killed midway under the prefix (they keep .smelter/tmp from being removed).
      await removeTempFilesUnder(store, t.prefix);
      if (options.afterStop) {
        await (options.clock ?? systemContext().clock).sleep(LATE_WRITE_GRACE_MS);
        aborted += await abortUploadsUnder(store, t.prefix);
        deleted += await store.deletePrefix(t.prefix);
        await removeTempFilesUnder(store, t.prefix);
      }
      const dir = store.localPath?.(t.prefix.replace(/\/+$/, ""));
      if (dir) await rm(dir, { recursive: true, force: true });
      await removeEmptyInternalDir(store);
      return `${deleted} object${deleted === 1 ? "" : "s"}${aborted ? ` and ${aborted} open multipart upload${aborted === 1 ? "" : "s"}` : ""} under ${joinUrl(t.store, t.prefix)}`;
    }
    const report = await abortParallelUpload(store, { key: t.key, uploadId: t.uploadId, stagingPrefix: t.staging, partitions: 1, partSize: 1 });
    await removeEmptyInternalDir(store);
    return `the multipart upload ${t.uploadId} of ${joinUrl(t.store, t.key)} (aborted) and ${report.stagingDeleted} staging object${report.stagingDeleted === 1 ? "" : "s"}`;
  } finally {
    if (!given) await store.close();
  }
}

/**
 * Aborts every multipart upload open under `prefix`; returns how many. None on a store without
 * multipart, or one that cannot list uploads (s3rver answers ListMultipartUploads with an error):
 * whether the store answers at all is told by the deletes that follow.
 */
async function abortUploadsUnder(store: ObjectStore, prefix: string): Promise<number> {
  const mp = store.multipart;
  if (!mp) return 0;
  const open = await mp.listUploads(prefix).catch(() => []);
  for (const u of open) await mp.abort(u.key, u.uploadId);
  return open.length;
}
