/**
 * The job's work store as a remote backend's manager side sees it: objects read, written and
 * deleted by URL (`s3://bucket/key`). Backends import no store driver (docs/architecture.md): the
 * caller gives one of these, usually `remoteStore(url)` from `smelter/remote-task`
 * (src/remote-task.ts), which opens S3 through the SDK's default credential chain.
 */

/** Objects by URL. `read` of a missing object throws an error whose `type` is `NotFound`. */
export interface RemoteObjects {
  read(url: string): Promise<string>;
  write(url: string, text: string): Promise<void>;
  /** No error when the object is missing. */
  delete(url: string): Promise<void>;
}

/** A {@link RemoteObjects} rooted at `url`, a prefix ending in `/` (e.g. `s3://bucket/_smelter/`): where a backend puts its own keys when the job gives none. */
export interface RemoteStore extends RemoteObjects {
  readonly url: string;
}

/** True when `err` says the object does not exist (Smelter's NotFound, or the SDK's NoSuchKey). */
export function isNotFound(err: unknown): boolean {
  const e = err as { type?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.type === "NotFound" || e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
