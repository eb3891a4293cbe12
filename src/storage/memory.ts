/**
 * A process-local store: `memory://name`. Every `memoryStore(name)` with the same name in one
 * process sees the same objects. Multipart follows S3 (Content-MD5 checked, parts listed in
 * order, 5 MiB minimum for all parts but the last, abort frees everything).
 */
import { systemContext, type RuntimeContext } from "../job/runtime-context.js";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import type { MultipartOps, ObjectInfo, ObjectStore, OpenUpload, UploadedPart } from "./contract.js";
import { BadDigestError, NoSuchUploadError, NotFoundError } from "./errors.js";
import { defineStore } from "./store.js";
import { checkVersion, etagVersion, objectUrl } from "./versions.js";
import { checkPartList, checkPartNumber, checkRange, compareKeys, md5Base64, md5Hex, MIN_PART_SIZE, multipartEtag, sliceRange } from "./util.js";

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Clock, random and ids (the Manager's runtime context, when the store serves a job). @default the process's default context */
  context?: RuntimeContext;
  /** Smallest size of every part but the last in `complete`. @default 5 MiB (S3's) */
  minPartSize?: number;
  /** Objects per listing page when the caller gives none. @default 1000 */
  pageSize?: number;
}

const optionsSchema = z.strictObject({
  context: z.custom<RuntimeContext>((c) => typeof c === "object" && c !== null && "clock" in c && "ids" in c, "a runtime context (createRuntimeContext())").optional(),
  minPartSize: z.number().int().min(1).default(MIN_PART_SIZE),
  pageSize: z.number().int().min(1).default(1000),
});

export const NAME = "memory";

interface StoredObject {
  data: Uint8Array;
  etag: string;
  lastModified: Date;
}
interface Upload {
  key: string;
  parts: Map<number, { data: Uint8Array; etag: string; size: number }>;
}
interface Bucket {
  objects: Map<string, StoredObject>;
  uploads: Map<string, Upload>;
}

const buckets = new Map<string, Bucket>();

export function memoryStore(name = "default", options: MemoryStoreOptions = {}): ObjectStore {
  const opts = parseOrThrow(optionsSchema, options, "memoryStore options");
  let bucket = buckets.get(name);
  if (!bucket) buckets.set(name, (bucket = { objects: new Map(), uploads: new Map() }));
  const b = bucket;
  const url = `memory://${name}`;
  const context = opts.context ?? systemContext();

  function sortedKeys(prefix: string): string[] {
    return [...b.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
  }
  function info(key: string, o: StoredObject): ObjectInfo {
    return { key, size: o.data.byteLength, etag: o.etag, lastModified: o.lastModified, version: etagVersion(o.etag) };
  }
  function upload(key: string, uploadId: string): Upload {
    const u = b.uploads.get(uploadId);
    if (!u || u.key !== key) throw new NoSuchUploadError(url, key, uploadId);
    return u;
  }

  const multipart: MultipartOps = {
    async create(key) {
      const uploadId = context.ids.uuid();
      b.uploads.set(uploadId, { key, parts: new Map() });
      return uploadId;
    },
    async uploadPart(key, uploadId, partNumber, body, o) {
      const where = `${url} "${key}"`;
      checkPartNumber(where, partNumber);
      const u = upload(key, uploadId);
      if (o?.contentMd5 !== undefined && o.contentMd5 !== md5Base64(body))
        throw new BadDigestError(`[smelter] [memory] part ${partNumber} of "${key}": the Content-MD5 ${o.contentMd5} does not match the bytes sent`);
      const etag = `"${md5Hex(body)}"`;
      u.parts.set(partNumber, { data: Uint8Array.from(body), etag, size: body.byteLength });
      return { partNumber, etag, size: body.byteLength };
    },
    async complete(key, uploadId, parts) {
      const u = upload(key, uploadId);
      checkPartList(`${url} "${key}" upload ${uploadId}`, parts, u.parts, opts.minPartSize);
      const chosen = parts.map((p) => u.parts.get(p.partNumber)!);
      const data = Buffer.concat(chosen.map((p) => p.data));
      const etag = multipartEtag(chosen.map((p) => p.etag));
      b.objects.set(key, { data, etag, lastModified: new Date(context.clock.now()) });
      b.uploads.delete(uploadId);
      return { etag };
    },
    async abort(key, uploadId) {
      upload(key, uploadId);
      b.uploads.delete(uploadId);
    },
    async listParts(key, uploadId): Promise<UploadedPart[]> {
      const u = upload(key, uploadId);
      return [...u.parts.entries()].sort((x, y) => x[0] - y[0]).map(([partNumber, p]) => ({ partNumber, etag: p.etag, size: p.size }));
    },
    async listUploads(prefix = ""): Promise<OpenUpload[]> {
      return [...b.uploads.entries()]
        .filter(([, u]) => u.key.startsWith(prefix))
        .map(([uploadId, u]) => ({ key: u.key, uploadId }))
        .sort((x, y) => compareKeys(x.key, y.key));
    },
  };

  return defineStore({
    kind: NAME,
    url,
    async *listPages(prefix, o) {
      const size = o?.pageSize ?? opts.pageSize;
      let after: string | undefined;
      for (;;) {
        o?.signal?.throwIfAborted();
        // Re-read on every page (like S3's start-after), so deletes while listing are safe.
        const keys = sortedKeys(prefix).filter((k) => after === undefined || compareKeys(k, after) > 0).slice(0, size);
        const page = keys.flatMap((k) => {
          const obj = b.objects.get(k);
          return obj ? [info(k, obj)] : [];
        });
        if (page.length > 0) yield page;
        if (keys.length < size) return;
        after = keys[keys.length - 1];
      }
    },
    async get(key, o) {
      o?.signal?.throwIfAborted();
      checkRange(o?.range);
      const obj = b.objects.get(key);
      if (!obj) throw new NotFoundError(url, key);
      checkVersion(objectUrl(url, key), o?.version, etagVersion(obj.etag));
      const [start, end] = sliceRange(obj.data.byteLength, o?.range);
      return obj.data.slice(start, end);
    },
    async put(key, body, o) {
      o?.signal?.throwIfAborted();
      const etag = `"${md5Hex(body)}"`;
      b.objects.set(key, { data: Uint8Array.from(body), etag, lastModified: new Date(context.clock.now()) });
      return { etag };
    },
    async delete(key) {
      b.objects.delete(key);
    },
    async head(key) {
      const obj = b.objects.get(key);
      return obj ? info(key, obj) : undefined;
    },
    multipart,
  });
}

/** Forgets every object of a named memory store (tests). */
export function clearMemoryStore(name: string): void {
  buckets.delete(name);
}
