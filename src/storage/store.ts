/**
 * `defineStore` turns a driver (a few required methods) into a full {@link ObjectStore}
 * (unstorage's Driver pattern): head via a listing, getStream via ranged gets, putStream by
 * buffering or multipart, list() flattening listPages, deletePrefix.
 */
import pLimit from "p-limit";
import type { ByteRange, ObjectInfo, ObjectStore, ReadOptions, StoreDriver, WriteOptions } from "./contract.js";
import { isObserving, observeCall, observeStream } from "../job/storage-calls.js";
import { NotFoundError } from "./errors.js";
import { concatBytes, MIN_PART_SIZE } from "./util.js";

export * from "./errors.js";

/** Tuning of the derived methods. */
export interface DefineStoreOptions {
  /** Chunk size of a derived getStream (one ranged get per chunk). @default 8 MiB */
  streamChunkSize?: number;
  /** Part size of a derived putStream; streams longer than one part go multipart when the driver has it. @default 8 MiB */
  putPartSize?: number;
  /** Deletes in flight at once in deletePrefix. @default 16 */
  deleteConcurrency?: number;
}

export function defineStore(driver: StoreDriver, options: DefineStoreOptions = {}): ObjectStore {
  const chunkSize = options.streamChunkSize ?? 8 * 1024 * 1024;
  const partSize = Math.max(options.putPartSize ?? 8 * 1024 * 1024, MIN_PART_SIZE);
  const deleteConcurrency = options.deleteConcurrency ?? 16;

  const listPages = (prefix: string, o?: { signal?: AbortSignal; pageSize?: number }) => driver.listPages(prefix, o);
  // Every call is seen by the storage call observer (src/job/storage-calls.ts) when one is set: traced attempts record them as spans.
  const call = (op: string, key: string) => ({ op, url: driver.url, key });
  const observedListPages = (prefix: string, o?: { signal?: AbortSignal; pageSize?: number }) => observeStream(call("list", prefix), () => listPages(prefix, o), (page) => page.length);

  async function* list(prefix: string, o?: { signal?: AbortSignal; pageSize?: number }): AsyncIterable<ObjectInfo> {
    for await (const page of observedListPages(prefix, o)) yield* page;
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    if (driver.head) return driver.head(key);
    // The key sorts before every other key it prefixes, so the first page holds it when it exists.
    for await (const page of driver.listPages(key, { pageSize: 1 })) {
      const first = page[0];
      return first && first.key === key ? first : undefined;
    }
    return undefined;
  }

  async function* getStream(key: string, o: ReadOptions = {}): AsyncIterable<Uint8Array> {
    if (driver.getStream) {
      yield* driver.getStream(key, o);
      return;
    }
    const info = await head(key);
    if (!info) throw new NotFoundError(driver.url, key);
    const end = Math.min(info.size, o.range?.end ?? info.size);
    let pos = o.range?.start ?? 0;
    if (pos >= end) return;
    while (pos < end) {
      const range: ByteRange = { start: pos, end: Math.min(end, pos + chunkSize) };
      const chunk = await driver.get(key, { range, signal: o.signal });
      if (chunk.byteLength === 0) break;
      yield chunk;
      pos += chunk.byteLength;
    }
  }

  async function putStream(key: string, body: AsyncIterable<Uint8Array>, o: WriteOptions = {}): Promise<{ etag?: string }> {
    if (driver.putStream) return driver.putStream(key, body, o);
    const mp = driver.multipart;
    let chunks: Uint8Array[] = [];
    let buffered = 0;
    let uploadId: string | undefined;
    const parts: { partNumber: number; etag: string }[] = [];
    const flush = async (): Promise<void> => {
      if (!mp) return;
      uploadId ??= await mp.create(key, o);
      const data = concatBytes(chunks, buffered);
      chunks = [];
      buffered = 0;
      const part = await mp.uploadPart(key, uploadId, parts.length + 1, data, { signal: o.signal });
      parts.push({ partNumber: part.partNumber, etag: part.etag });
    };
    try {
      for await (const chunk of body) {
        o.signal?.throwIfAborted();
        chunks.push(chunk);
        buffered += chunk.byteLength;
        if (mp && buffered >= partSize) await flush();
      }
      if (uploadId === undefined) return await driver.put(key, concatBytes(chunks, buffered), o);
      if (buffered > 0) await flush();
      return await mp!.complete(key, uploadId, parts);
    } catch (err) {
      if (uploadId !== undefined) await mp!.abort(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  async function deletePrefix(prefix: string): Promise<number> {
    const limit = pLimit(deleteConcurrency);
    let count = 0;
    for await (const page of driver.listPages(prefix)) {
      await Promise.all(page.map((o) => limit(() => driver.delete(o.key))));
      count += page.length;
    }
    return count;
  }

  return {
    kind: driver.kind,
    url: driver.url,
    listPages: observedListPages,
    list,
    get: (key, o) => observeCall(call("get", key), () => driver.get(key, o), (b) => b.byteLength),
    put: (key, body, o) => observeCall(call("put", key), () => driver.put(key, body, o), () => body.byteLength),
    delete: (key) => observeCall(call("delete", key), () => driver.delete(key)),
    head: (key) => observeCall(call("head", key), () => head(key)),
    getStream: (key, o) => observeStream(call("getStream", key), () => getStream(key, o), (c) => c.byteLength),
    putStream: (key, body, o) => {
      if (!isObserving()) return putStream(key, body, o);
      let bytes = 0;
      const counted = (async function* () {
        for await (const c of body) {
          bytes += c.byteLength;
          yield c;
        }
      })();
      return observeCall(call("putStream", key), () => putStream(key, counted, o), () => bytes);
    },
    deletePrefix,
    multipart: driver.multipart,
    localPath: driver.localPath?.bind(driver),
    close: async () => {
      await driver.close?.();
    },
  };
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    chunks.push(c);
    n += c.byteLength;
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, n);
}
