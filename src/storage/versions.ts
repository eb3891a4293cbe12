/**
 * Object versions: a token that changes whenever an object is rewritten, recorded by the listing
 * (`ObjectInfo.version`) and checked by every read given it (`ReadOptions.version`), so a job
 * never mixes the bytes of two versions of one input. S3 (and memory): the ETag, quotes dropped
 * (a multipart object's keeps its `-N`). A local file: its size, modification time in
 * nanoseconds and inode (a rewrite through rename is a new inode even within the clock's tick).
 */
import { SmelterError } from "../job/errors.js";
import { stripEtag } from "./util.js";

/** A read found another version of an object than the one the job listed. Non-retryable: rerun the job. */
export class InputChangedError extends SmelterError {
  override name = "InputChangedError";
  constructor(object: string, detail: string, options: { cause?: unknown } = {}) {
    super(
      `[smelter] ${object} changed during the job (${detail}): its bytes would mix two versions of it into the answer, so the job stops; rerun it once the input stops changing`,
      { ...options, type: "InputChanged", nonRetryable: true },
    );
  }
}

/** An ETag as a version: without quotes or a weak `W/` prefix (servers differ in both). */
export function etagVersion(etag: string | undefined): string | undefined {
  const bare = etag === undefined ? "" : stripEtag(etag.trim());
  return bare === "" ? undefined : bare;
}

/** The version of a local file from its `stat(..., { bigint: true })`. */
export function fileVersion(st: { size: bigint; mtimeNs: bigint; ino: bigint }): string {
  return `${st.size}:${st.mtimeNs}:${st.ino}`;
}

/**
 * Throws {@link InputChangedError} when an object's version `found` (undefined: the read could not
 * tell) is not the `expected` one. `object` is the object's URL, for the message.
 */
export function checkVersion(object: string, expected: string | undefined, found: string | undefined): void {
  if (expected === undefined || found === expected) return;
  throw new InputChangedError(object, found === undefined ? `version ${expected} when listed, now none reported` : `version ${expected} when listed, ${found} now`);
}

/** `object` as a URL: the store's root and the key. */
export function objectUrl(storeUrl: string, key: string): string {
  return `${storeUrl.replace(/\/$/, "")}/${key}`;
}
