/**
 * Objects by URL (`s3://bucket/key`, `file:///dir/key`, `memory://name/key`), for the remote
 * backends' two sides: the manager's {@link remoteStore} (envelopes, replies, channel batches in
 * the job's work store) and the far side's reads and writes (src/lambda.ts, src/remote-task.ts).
 * S3 clients are kept per bucket, so a warm worker reuses its connections; credentials are the
 * SDK's default chain (the worker's role), never a payload's.
 */
import type { RemoteObjects, RemoteStore } from "./backends/remote/store.js";
import { withSlash } from "./backends/remote/keys.js";
import { cachedStore } from "./storage/cache.js";
import type { ObjectStore } from "./storage/contract.js";
import { openStore, parseStoreUrl } from "./storage/url.js";

/** The store holding the object at `url` and its key. */
async function objectAt(url: string): Promise<{ store: ObjectStore; key: string }> {
  const parsed = parseStoreUrl(url);
  return parsed.scheme === "s3" ? { store: await cachedStore(`s3://${parsed.bucket}`), key: parsed.key } : openStore(url);
}

/** Reads an object by URL as text. A missing object throws NotFound (type `NotFound`). */
export async function readObject(url: string): Promise<string> {
  const { store, key } = await objectAt(url);
  return Buffer.from(await store.get(key)).toString("utf8");
}

/** Writes text to an object by URL. */
export async function writeObject(url: string, text: string): Promise<void> {
  const { store, key } = await objectAt(url);
  await store.put(key, Buffer.from(text));
}

/** Deletes an object by URL (no error when it is missing). */
export async function deleteObject(url: string): Promise<void> {
  const { store, key } = await objectAt(url);
  await store.delete(key);
}

/** Objects by URL, for a backend's `objects` option (e.g. the lambda backend's). */
export const urlObjects: RemoteObjects = { read: readObject, write: writeObject, delete: deleteObject };

/** A remote backend's store rooted at `url` (a prefix; a `/` is added when missing), e.g. `remoteStore("s3://bucket/_smelter/")`. */
export function remoteStore(url: string): RemoteStore {
  return { url: withSlash(url), ...urlObjects };
}
