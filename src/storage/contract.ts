/**
 * The object store contract. A driver implements a few required methods; `defineStore`
 * (storage/store.ts) derives the rest (unstorage's Driver pattern). Keys are relative to the
 * store's root (`s3://bucket/prefix`, `file:///dir`, `memory://name`) and use `/` separators.
 */

export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  /** A token that changes whenever the object is rewritten (storage/versions.ts): the ETag on S3, size, mtime and inode of a local file. */
  version?: string;
}

/** A byte range: `start` inclusive, `end` exclusive; `end` omitted means to the end. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface ReadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /** The object's version when listed (`ObjectInfo.version`): a read that finds another throws InputChangedError (storage/versions.ts). */
  version?: string;
  /** Called once when the response starts (its headers arrived), by stores that can tell (S3): the ranged reader hedges a GET whose first byte is late. */
  onFirstByte?: () => void;
  /**
   * A buffer the store may read the bytes into, when they fit: the result is then a view of its
   * start. A store that does not use it returns a buffer of its own, so a caller recycles `into`
   * only when the result is a view of it ({@link isViewOf}). The caller leaves `into` alone until
   * the read settles, and after a failed or aborted read, while the store may still be writing to
   * it, gives it up (does not reuse it). Saves a fresh buffer per large GET (storage/ranged.ts's
   * read-ahead blocks: docs/performance.md, "Through S3").
   */
  into?: Uint8Array;
}

/** The buffer a store reads `length` bytes into: a view of the start of `into` when they fit (ReadOptions.into), else a fresh one. */
export function readBuffer(length: number, into: Uint8Array | undefined): Buffer {
  return into && into.byteLength >= length ? Buffer.from(into.buffer, into.byteOffset, length) : Buffer.allocUnsafe(length);
}

/** True when `bytes` is a view of `buffer`'s memory (a read that used `into`). */
export function isViewOf(bytes: Uint8Array, buffer: Uint8Array): boolean {
  return bytes.buffer === buffer.buffer && bytes.byteOffset >= buffer.byteOffset && bytes.byteOffset + bytes.byteLength <= buffer.byteOffset + buffer.byteLength;
}

export interface WriteOptions {
  contentType?: string;
  signal?: AbortSignal;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size?: number;
}

export interface OpenUpload {
  key: string;
  uploadId: string;
}

/** Multipart uploads (S3 semantics: parts of 5 MiB or more except the last, at most 10,000). */
export interface MultipartOps {
  create(key: string, options?: WriteOptions): Promise<string>;
  /** `contentMd5` is the base64 MD5 of `body`; the store rejects a part whose bytes do not match. */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options?: { contentMd5?: string; signal?: AbortSignal }): Promise<UploadedPart>;
  complete(key: string, uploadId: string, parts: UploadedPart[]): Promise<{ etag?: string }>;
  abort(key: string, uploadId: string): Promise<void>;
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  listUploads(prefix?: string): Promise<OpenUpload[]>;
}

/** What a driver must implement. */
export interface StoreDriver {
  /** `s3`, `file`, `memory` */
  readonly kind: string;
  /** The store's root URL, e.g. `s3://bucket/prefix`. */
  readonly url: string;
  /** Lists objects under `prefix` one page at a time (never one big array). */
  listPages(prefix: string, options?: { signal?: AbortSignal; pageSize?: number }): AsyncIterable<ObjectInfo[]>;
  /** Reads a whole object or a byte range. Missing object: throws NotFound (type `NotFound`, non-retryable). */
  get(key: string, options?: ReadOptions): Promise<Uint8Array>;
  put(key: string, body: Uint8Array, options?: WriteOptions): Promise<{ etag?: string }>;
  delete(key: string): Promise<void>;
  head?(key: string): Promise<ObjectInfo | undefined>;
  getStream?(key: string, options?: ReadOptions): AsyncIterable<Uint8Array>;
  putStream?(key: string, body: AsyncIterable<Uint8Array>, options?: WriteOptions): Promise<{ etag?: string }>;
  multipart?: MultipartOps;
  /**
   * Capability: the local file that holds `key`, for a store that keeps its objects as plain files
   * on this machine (a local directory). S3 and memory stores have none. Code outside storage/
   * asks for this instead of testing URLs for `file:`, so a store elsewhere (and a worker far
   * away) never meets a local-path assumption. Throws a ValidationError for an invalid key.
   */
  localPath?(key: string): string;
  close?(): Promise<void>;
}

/** What the rest of Smelter uses: a driver with every method filled in. */
export interface ObjectStore extends Required<Omit<StoreDriver, "multipart" | "localPath">> {
  /** Every object under `prefix`, streamed page by page. */
  list(prefix: string, options?: { signal?: AbortSignal; pageSize?: number }): AsyncIterable<ObjectInfo>;
  /** Deletes every object under `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Undefined when the driver has no multipart support. */
  readonly multipart: MultipartOps | undefined;
  /** {@link StoreDriver.localPath}; undefined when the store's objects are not local files. */
  readonly localPath: ((key: string) => string) | undefined;
}
