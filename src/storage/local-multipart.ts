/**
 * Multipart uploads emulated in a local directory, with S3's rules: `<internalDir>/<uploadId>/`
 * holds `upload.json` and one `<n>.part` file (plus `<n>.json` with its ETag) per part;
 * Content-MD5 is checked; complete concatenates the parts into a temp file and renames it into
 * place; abort removes the directory.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { RuntimeContext } from "../job/runtime-context.js";
import { z } from "zod";
import type { MultipartOps, OpenUpload, UploadedPart } from "./contract.js";
import { BadDigestError, fileSystemError, isFileSystemError, NoSuchUploadError, StoreError } from "./errors.js";
import { checkPartList, checkPartNumber, compareKeys, md5Base64, md5Hex, multipartEtag } from "./util.js";
import { makeDirs } from "./local-dirs.js";

export interface LocalMultipartContext {
  root: string;
  url: string;
  internalDir: string;
  minPartSize: number;
  /** The store's runtime context (upload ids, creation times). */
  context: RuntimeContext;
  resolveKey(key: string): string;
  /** Writes `key` through a new temp file, filled by `write` through its open handle, then renamed into place (local.ts). */
  writeObject(key: string, write: (handle: fs.FileHandle) => Promise<void>, failed: (err: unknown) => unknown): Promise<void>;
}

const uploadMetaSchema = z.object({ key: z.string(), created: z.number() });
const partMetaSchema = z.object({ etag: z.string(), size: z.number().int().nonnegative() });
const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function localMultipart(ctx: LocalMultipartContext): MultipartOps {
  const uploadDir = (id: string): string => path.join(ctx.internalDir, id);

  /** Checks the upload exists and belongs to `key`; returns its directory. */
  async function open(key: string, uploadId: string): Promise<string> {
    if (!UPLOAD_ID_RE.test(uploadId)) throw new NoSuchUploadError(ctx.url, key, uploadId);
    const dir = uploadDir(uploadId);
    const meta = await readJson(path.join(dir, "upload.json"), uploadMetaSchema);
    if (!meta || meta.key !== key) throw new NoSuchUploadError(ctx.url, key, uploadId);
    return dir;
  }

  async function storedParts(dir: string): Promise<Map<number, { etag: string; size: number }>> {
    const out = new Map<number, { etag: string; size: number }>();
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const m = /^(\d+)\.json$/.exec(name);
      if (!m) continue;
      const meta = await readJson(path.join(dir, name), partMetaSchema);
      if (meta) out.set(Number(m[1]), meta);
    }
    return out;
  }

  return {
    async create(key) {
      ctx.resolveKey(key);
      const uploadId = ctx.context.ids.uuid();
      const dir = uploadDir(uploadId);
      await makeDirs(dir).catch((err: unknown) => {
        throw fileSystemError(err, "start a multipart upload of", `"${key}" in ${ctx.url} (making ${dir})`);
      });
      await fs.writeFile(path.join(dir, "upload.json"), JSON.stringify({ key, created: ctx.context.clock.now() })).catch(async (err: unknown) => {
        await fs.rm(dir, { recursive: true, force: true });
        throw fileSystemError(err, "start a multipart upload of", `"${key}" in ${ctx.url}`);
      });
      return uploadId;
    },
    async uploadPart(key, uploadId, partNumber, body, o) {
      checkPartNumber(`${ctx.url} "${key}"`, partNumber);
      const dir = await open(key, uploadId);
      o?.signal?.throwIfAborted();
      if (o?.contentMd5 !== undefined && o.contentMd5 !== md5Base64(body))
        throw new BadDigestError(`[smelter] [file] part ${partNumber} of "${key}": the Content-MD5 ${o.contentMd5} does not match the bytes sent`);
      const etag = `"${md5Hex(body)}"`;
      // Part data then its metadata, each renamed into place: a part is listed only once whole.
      const tmp = path.join(dir, `${ctx.context.ids.uuid()}.tmp`);
      try {
        await fs.writeFile(tmp, body);
        await fs.rename(tmp, path.join(dir, `${partNumber}.part`));
        await fs.writeFile(tmp, JSON.stringify({ etag, size: body.byteLength }));
        await fs.rename(tmp, path.join(dir, `${partNumber}.json`));
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw isFileSystemError(err) ? fileSystemError(err, `write part ${partNumber} of`, `"${key}" in ${ctx.url}`) : err;
      }
      return { partNumber, etag, size: body.byteLength };
    },
    async complete(key, uploadId, parts) {
      const dir = await open(key, uploadId);
      checkPartList(`${ctx.url} "${key}" upload ${uploadId}`, parts, await storedParts(dir), ctx.minPartSize);
      await ctx.writeObject(
        key,
        async (fh) => {
          for (const p of parts) {
            for await (const chunk of createReadStream(path.join(dir, `${p.partNumber}.part`), { highWaterMark: 1 << 20 })) await fh.write(chunk as Buffer);
          }
        },
        (err) => (isFileSystemError(err) ? fileSystemError(err, `complete upload ${uploadId} of`, `"${key}" in ${ctx.url}`) : new StoreError(`[smelter] [file] completing upload ${uploadId} of "${key}" failed: ${(err as Error).message}`, { cause: err })),
      );
      await fs.rm(dir, { recursive: true, force: true });
      return { etag: multipartEtag(parts.map((p) => p.etag)) };
    },
    async abort(key, uploadId) {
      const dir = await open(key, uploadId);
      await fs.rm(dir, { recursive: true, force: true });
    },
    async listParts(key, uploadId): Promise<UploadedPart[]> {
      const stored = await storedParts(await open(key, uploadId));
      return [...stored.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, p]) => ({ partNumber, etag: p.etag, size: p.size }));
    },
    async listUploads(prefix = ""): Promise<OpenUpload[]> {
      const out: OpenUpload[] = [];
      for (const id of await fs.readdir(ctx.internalDir).catch(() => [] as string[])) {
        if (!UPLOAD_ID_RE.test(id)) continue;
        const meta = await readJson(path.join(uploadDir(id), "upload.json"), uploadMetaSchema);
        if (meta?.key.startsWith(prefix)) out.push({ key: meta.key, uploadId: id });
      }
      return out.sort((a, b) => compareKeys(a.key, b.key) || a.uploadId.localeCompare(b.uploadId));
    },
  };
}

/** Reads and validates a JSON file; undefined when it is missing or malformed. */
async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const text = await fs.readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
