/**
 * Errors every store throws. Drivers translate their own failures (SDK errors, errno codes) into
 * these at the edge, so the core and the scheduler see one vocabulary: `type` drives retry
 * policies, `nonRetryable` says whether another attempt can help.
 */
import { SmelterError, type SmelterErrorOptions } from "../job/errors.js";

type Opts = Omit<SmelterErrorOptions, "type" | "nonRetryable">;

/** Any other store failure (network, 5xx after the driver's own retries). Retryable. */
export class StoreError extends SmelterError {
  override name = "StoreError";
  constructor(message: string, options: SmelterErrorOptions = {}) {
    super(message, { type: "StoreError", ...options });
  }
}

/** The object (or the byte range asked for) does not exist. Non-retryable. */
export class NotFoundError extends SmelterError {
  override name = "NotFoundError";
  readonly key: string;
  constructor(storeUrl: string, key: string, options: Opts = {}) {
    super(`[smelter] [${kindOf(storeUrl)}] object "${key}" not found in ${storeUrl}`, { ...options, type: "NotFound", nonRetryable: true });
    this.key = key;
  }
}

/** The bucket (or directory) itself is missing. Non-retryable. */
export class BucketNotFoundError extends SmelterError {
  override name = "BucketNotFoundError";
  constructor(bucket: string, where: string, options: Opts = {}) {
    super(`[smelter] [s3] bucket "${bucket}" not found at ${where}: check the name, or create the bucket first (the embedded server creates buckets with smelter s3 serve --bucket NAME)`, { ...options, type: "BucketNotFound", nonRetryable: true });
  }
}

/** Wrong or missing credentials, or a policy that forbids the call. Non-retryable. */
export class AccessDeniedError extends SmelterError {
  override name = "AccessDeniedError";
  constructor(message: string, options: Opts = {}) {
    super(message, { ...options, type: "AccessDenied", nonRetryable: true });
  }
}

/** The bytes received do not match the Content-MD5 sent with them. Retryable (a transfer may be corrupted). */
export class BadDigestError extends SmelterError {
  override name = "BadDigestError";
  constructor(message: string, options: Opts = {}) {
    super(message, { ...options, type: "BadDigest" });
  }
}

/** The multipart upload id is unknown (completed, aborted, or never created). Non-retryable. */
export class NoSuchUploadError extends SmelterError {
  override name = "NoSuchUploadError";
  constructor(storeUrl: string, key: string, uploadId: string, options: Opts = {}) {
    super(`[smelter] [${kindOf(storeUrl)}] multipart upload ${uploadId} of "${key}" does not exist in ${storeUrl} (completed, aborted or never created)`, {
      ...options,
      type: "NoSuchUpload",
      nonRetryable: true,
    });
  }
}

/** A part list that cannot be completed: a missing part, a wrong ETag, parts out of order, or a part under 5 MiB that is not the last. Non-retryable. */
export class InvalidPartError extends SmelterError {
  override name = "InvalidPartError";
  constructor(message: string, options: Opts & { type?: "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" } = {}) {
    super(message, { ...options, type: options.type ?? "InvalidPart", nonRetryable: true });
  }
}

/** The store was asked to slow down (S3 SlowDown / 503) more times than its retries allow. Retryable. */
export class ThrottledError extends SmelterError {
  override name = "ThrottledError";
  constructor(message: string, options: Opts = {}) {
    super(message, { ...options, type: "Throttled" });
  }
}

function kindOf(url: string): string {
  const i = url.indexOf("://");
  return i > 0 ? url.slice(0, i) : "store";
}

/** What a file-system errno means for a store path, in words, and whether another attempt can help. */
const FS_REASONS: Record<string, { reason: string; retry: boolean }> = {
  ENOSPC: { reason: "the disk is full (ENOSPC): free some space or write to another disk", retry: false },
  EDQUOT: { reason: "the disk quota is used up (EDQUOT): free some space or write elsewhere", retry: false },
  EACCES: { reason: "permission denied (EACCES): check the directory's permissions, or pick a path you can write", retry: false },
  EPERM: { reason: "operation not permitted (EPERM): check the directory's permissions, or pick a path you can write", retry: false },
  EROFS: { reason: "the file system is read-only (EROFS): pick a writable path", retry: false },
  ENOTDIR: { reason: "a part of the path is a file, not a directory (ENOTDIR): pick a path whose parents are directories", retry: false },
  EEXIST: { reason: "something already exists there that is not a directory (EEXIST): remove it or pick another path", retry: false },
  EISDIR: { reason: "it is a directory, not a file (EISDIR): pick another name", retry: false },
  ENOENT: { reason: "a parent directory does not exist and cannot be created there (ENOENT): create it or pick another path", retry: false },
  ENAMETOOLONG: { reason: "the name is too long for the file system (ENAMETOOLONG): use shorter keys or a shorter path", retry: false },
  EMFILE: { reason: "too many open files (EMFILE): lower the concurrency or raise the limit (ulimit -n)", retry: true },
  EIO: { reason: "an I/O error (EIO): check the disk", retry: true },
};

/** Whether `err` is a file-system errno this module explains. */
export function isFileSystemError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && code in FS_REASONS;
}

/**
 * A local file-system failure as a store error in Smelter's words: what was being done to which
 * path, what the errno means, and what to do. Unknown codes keep Node's message.
 */
export function fileSystemError(err: unknown, doing: string, where: string): StoreError {
  const e = err as NodeJS.ErrnoException;
  const known = e?.code ? FS_REASONS[e.code] : undefined;
  const reason = known?.reason ?? `${e?.message ?? String(err)}`;
  return new StoreError(`[smelter] [file] cannot ${doing} ${where}: ${reason}`, { cause: err, nonRetryable: known ? !known.retry : false });
}
