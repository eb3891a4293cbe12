/**
 * A local directory as a store: `file:///abs/dir` or a plain path. Writes are atomic (a temp file
 * under `<root>/.smelter/tmp`, then rename), so a reader sees the old object or the new one,
 * never half. A key can never leave the root: `..`, absolute keys, empty segments and NUL bytes
 * are rejected with a ValidationError, and so is a key reaching outside through a symbolic link
 * (a link leading out is not listed either). Listing walks the tree in S3 key order, a page at a time.
 * Multipart is emulated under `<root>/.smelter/multipart` (local-multipart.ts).
 */
import { createReadStream, createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { systemContext, type RuntimeContext } from "../job/runtime-context.js";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { z } from "zod";
import { ValidationError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import { readBuffer, type ObjectInfo, type ObjectStore } from "./contract.js";
import { fileSystemError, isFileSystemError, NotFoundError, StoreError } from "./errors.js";
import { inDir } from "./local-dirs.js";
import { localMultipart } from "./local-multipart.js";
import { defineStore } from "./store.js";
import { checkVersion, fileVersion, InputChangedError, objectUrl } from "./versions.js";
import { checkRange, compareKeys, MIN_PART_SIZE, sliceRange } from "./util.js";

/** Options of {@link localStore}. */
export interface LocalStoreOptions {
  /** Clock, random and ids (the Manager's runtime context, when the store serves a job). @default the process's default context */
  context?: RuntimeContext;
  /** Create the root directory when it does not exist. @default true */
  create?: boolean;
  /** Objects per listing page when the caller gives none. @default 1000 */
  pageSize?: number;
  /** Smallest size of every part but the last in a multipart `complete`. @default 5 MiB (S3's) */
  minPartSize?: number;
}

const optionsSchema = z.strictObject({
  context: z.custom<RuntimeContext>((c) => typeof c === "object" && c !== null && "clock" in c && "ids" in c, "a runtime context (createRuntimeContext())").optional(),
  create: z.boolean().default(true),
  pageSize: z.number().int().min(1).default(1000),
  minPartSize: z.number().int().min(1).default(MIN_PART_SIZE),
});

export const NAME = "file";
/** The hidden directory under the root holding temp files and multipart uploads. */
export const INTERNAL_DIR = ".smelter";

/**
 * Writes objects of a local store through files: `write` fills a temp path inside the store (from
 * any thread, by any means), then the store renames it into place atomically (or removes it when
 * `write` fails), exactly as its own put does. No ETag is computed.
 */
export interface LocalFileWriter {
  /** The store's root directory. */
  readonly root: string;
  put(key: string, write: (tempPath: string) => Promise<void>): Promise<void>;
}
const fileWriters = new WeakMap<ObjectStore, LocalFileWriter>();

/** The {@link LocalFileWriter} of a store made by {@link localStore}; undefined for any other store (wrappers included). */
export function localFileWriter(store: ObjectStore): LocalFileWriter | undefined {
  return fileWriters.get(store);
}

export function localStore(dir: string, options: LocalStoreOptions = {}): ObjectStore {
  const opts = parseOrThrow(optionsSchema, options, "localStore options");
  const context = opts.context ?? systemContext();
  const root = path.resolve(dir);
  // A directory URL ends in "/": reopening it by URL names this directory even before it exists.
  const url = pathToFileURL(root).href.replace(/\/?$/, "/");
  const tmpDir = path.join(root, INTERNAL_DIR, "tmp");
  let ready: Promise<void> | undefined;
  const ensureRoot = (): Promise<void> =>
    (ready ??= (async () => {
      if (!opts.create) {
        const st = await fs.stat(root).catch(() => undefined);
        if (!st?.isDirectory()) throw new StoreError(`[smelter] [file] directory ${root} does not exist: create it or pass another path`, { nonRetryable: true });
      }
    })());

  const resolveKey = (key: string): string => resolveLocalKey(root, key);
  /** The root's real path (symbolic links resolved), once it exists. */
  let realRoot: string | undefined;
  /**
   * Refuses a key whose path leaves the root through a symbolic link (a directory or file inside
   * the root linking outside it): the real path of its deepest existing part must be under the
   * root's. Keys are checked by name in resolveKey; this is the part a name cannot show.
   */
  async function contained(file: string, key: string): Promise<string> {
    realRoot ??= await fs.realpath(root).catch(() => undefined);
    if (realRoot === undefined) return file; // no root yet: nothing inside it can be a link
    for (let p = file; p.length >= root.length; p = path.dirname(p)) {
      const real = await fs.realpath(p).catch(() => undefined);
      if (real === undefined) continue;
      if (real !== realRoot && !real.startsWith(realRoot + path.sep))
        throw new ValidationError(`[smelter] [file] invalid key ${JSON.stringify(key)}: it leads outside the store's root ${root} through a symbolic link (to ${real}); keys can never leave the root: remove the link, or use its target as the store`);
      return file;
    }
    return file;
  }
  /**
   * A new, empty temp file under .smelter/tmp, open for writing: the one open of a PUT, named after
   * its key's start ({@link tempName}: a job's cleanup removes the files of writes killed midway
   * under its prefix, removeTempFilesUnder). Made every
   * time, not once: an emptied .smelter/ is removed after a result is written
   * (removeEmptyInternalDir), and a warm worker's store outlives it. That removal can also run
   * while this makes it (another job's end on the same store), so the file is created where its
   * directory is made (flag "wx"): once it exists the directory is not empty and stays. A level
   * that vanished before is made again, a few times (inDir).
   */
  const tempFile = async (key: string): Promise<{ path: string; handle: FileHandle }> => {
    await ensureRoot();
    const file = path.join(tmpDir, tempName(key, context.ids.uuid()));
    const handle = await inDir(tmpDir, () => fs.open(file, "wx")).catch((err: unknown) => {
      throw fileSystemError(err, "use the directory", `${root} as a store (creating ${INTERNAL_DIR}/tmp inside)`);
    });
    return { path: file, handle };
  };
  /**
   * Every write of an object: `write` fills a new temp file through the handle its creation opened
   * (and the path, for writers that need one), the handle is closed, and the file is committed.
   * When `write` fails the temp file is removed and `failed(err)` thrown.
   */
  async function writeObject(key: string, write: (handle: FileHandle, tmp: string) => Promise<void>, failed: (err: unknown) => unknown): Promise<void> {
    const tmp = await tempFile(key);
    try {
      await write(tmp.handle, tmp.path);
      await tmp.handle.close();
    } catch (err) {
      await tmp.handle.close().catch(() => undefined);
      await fs.rm(tmp.path, { force: true });
      throw failed(err);
    }
    await commit(tmp.path, key);
  }
  /**
   * Moves a finished temp file to the key's path: the atomic step of every write. A DELETE of the
   * last object in the key's folder removes the emptied directory and its emptied parents (no
   * empty folders, as on S3), so a level can vanish while it is made or before the rename: then
   * it is made again, a few times, as long as the temp file is still there. A temp file that
   * vanished (something removed it from .smelter/tmp) fails at once, saying so.
   */
  async function commit(tmp: string, key: string): Promise<void> {
    const file = resolveKey(key);
    const tmpExists = () => fs.access(tmp).then(() => true, () => false);
    try {
      await contained(file, key);
      await inDir(path.dirname(file), () => fs.rename(tmp, file), tmpExists);
    } catch (err) {
      await removeEmptyFolders(file); // the ones made for the rename
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !(await tmpExists()))
        throw new StoreError(`[smelter] [file] cannot write "${key}" in ${url}: its temp file ${tmp} vanished before it was renamed into place (something removed it from ${INTERNAL_DIR}/tmp while the write ran): write it again, and keep other programs out of ${INTERNAL_DIR}/`, { cause: err });
      await fs.rm(tmp, { force: true });
      if (err instanceof ValidationError) throw err;
      if (code === "ENOTDIR" || code === "EEXIST" || code === "EISDIR")
        throw new StoreError(`[smelter] [file] cannot write "${key}" in ${url}: it conflicts with an existing object or directory (a directory cannot also be an object)`, {
          nonRetryable: true,
          cause: err,
        });
      throw fsError(err, key);
    }
  }
  /** Removes the emptied folders above a file, up to the root: a store has no empty folders (S3 has none). */
  async function removeEmptyFolders(file: string): Promise<void> {
    for (let d = path.dirname(file); d !== root && d.startsWith(root + path.sep); d = path.dirname(d)) {
      if (!(await fs.rmdir(d).then(() => true, () => false))) break;
    }
  }
  function writeError(err: unknown, key: string): unknown {
    return isFileSystemError(err) ? fileSystemError(err, "write", `"${key}" in ${url}`) : err;
  }
  function fsError(err: unknown, key: string): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return new NotFoundError(url, key, { cause: err });
    return fileSystemError(err, "read or write", `"${key}" in ${url}`);
  }

  async function* walk(dirAbs: string, dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await fs.readdir(dirAbs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw fsError(err, dirKey);
    }
    const items = [];
    for (const e of entries) {
      if (dirKey === "" && e.name === INTERNAL_DIR) continue;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        // A link leading outside the root is not an object of this store: never listed.
        if (!(await contained(path.join(dirAbs, e.name), dirKey + e.name).then(() => true, () => false))) continue;
        isDir = (await fs.stat(path.join(dirAbs, e.name)).catch(() => undefined))?.isDirectory() ?? false;
      }
      items.push({ name: e.name, isDir, sortKey: dirKey + e.name + (isDir ? "/" : "") });
    }
    items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const it of items) {
      if (it.isDir) {
        if (it.sortKey.startsWith(prefix) || prefix.startsWith(it.sortKey)) yield* walk(path.join(dirAbs, it.name), it.sortKey, prefix);
      } else if (it.sortKey.startsWith(prefix)) {
        const st = await fs.stat(path.join(dirAbs, it.name), { bigint: true }).catch(() => undefined);
        if (st?.isFile()) yield { key: it.sortKey, size: Number(st.size), lastModified: st.mtime, version: fileVersion(st) };
      }
    }
  }

  const store = defineStore({
    kind: NAME,
    url,
    localPath: resolveKey,
    async *listPages(prefix, o) {
      checkLocalPrefix(prefix);
      const size = o?.pageSize ?? opts.pageSize;
      const start = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      let page: ObjectInfo[] = [];
      for await (const info of walk(path.join(root, start), start, prefix)) {
        o?.signal?.throwIfAborted();
        page.push(info);
        if (page.length >= size) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },
    async get(key, o) {
      o?.signal?.throwIfAborted();
      checkRange(o?.range);
      const file = await contained(resolveKey(key), key);
      try {
        if (!o?.range && o?.version === undefined) return new Uint8Array(await fs.readFile(file, { signal: o?.signal }));
        const fh = await fs.open(file, "r");
        try {
          // Given the version listed: checked before and after reading, so the bytes are all of it.
          const before = await fh.stat({ bigint: true });
          checkVersion(objectUrl(url, key), o?.version, fileVersion(before));
          const [s, e] = sliceRange(Number(before.size), o?.range);
          const buf = readBuffer(e - s, o?.into);
          let off = 0;
          while (off < buf.length) {
            const { bytesRead } = await fh.read(buf, off, buf.length - off, s + off);
            if (bytesRead === 0) break;
            off += bytesRead;
          }
          if (o?.version !== undefined) checkVersion(objectUrl(url, key), o.version, fileVersion(await fh.stat({ bigint: true })));
          return off === buf.length ? buf : buf.subarray(0, off);
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw err instanceof InputChangedError ? err : fsError(err, key);
      }
    },
    async put(key, body, o) {
      resolveKey(key);
      o?.signal?.throwIfAborted();
      await writeObject(key, (handle) => fs.writeFile(handle, body, { signal: o?.signal }), (err) => fsError(err, key));
      // No ETag: a local object's version is its file's identity and mtime (list, head, versions.ts);
      // an MD5 of every byte written cost the functions API's map tasks ~3% of their CPU.
      return {};
    },
    async putStream(key, body, o) {
      resolveKey(key);
      // The stream writes through the temp file's handle, and closes it. No ETag, as put.
      await writeObject(key, (handle) => pipeline(Readable.from(body), createWriteStream("", { fd: handle }), { signal: o?.signal }), (err) => writeError(err, key));
      return {};
    },
    async *getStream(key, o) {
      checkRange(o?.range);
      const file = await contained(resolveKey(key), key);
      let fh;
      try {
        fh = await fs.open(file, "r");
      } catch (err) {
        throw fsError(err, key);
      }
      const { size } = await fh.stat();
      const [s, e] = sliceRange(size, o?.range);
      if (e <= s) return void (await fh.close());
      // The stream owns the handle and closes it (also when the consumer stops early).
      yield* createReadStream("", { fd: fh, start: s, end: e - 1, signal: o?.signal, highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
    },
    async delete(key) {
      const file = await contained(resolveKey(key), key);
      try {
        await fs.unlink(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return;
        throw fsError(err, key);
      }
      await removeEmptyFolders(file);
    },
    async head(key) {
      const file = await contained(resolveKey(key), key);
      const st = await fs.stat(file, { bigint: true }).catch(() => undefined);
      return st?.isFile() ? { key, size: Number(st.size), lastModified: st.mtime, version: fileVersion(st) } : undefined;
    },
    multipart: localMultipart({ root, url, internalDir: path.join(root, INTERNAL_DIR, "multipart"), minPartSize: opts.minPartSize, context, resolveKey, writeObject }),
  });
  fileWriters.set(store, {
    root,
    async put(key, write) {
      resolveKey(key);
      // The writer opens the path its own way (a worker thread, DuckDB's COPY): the handle is closed first.
      await writeObject(
        key,
        async (handle, tmp) => {
          await handle.close();
          await write(tmp);
        },
        (err) => writeError(err, key),
      );
    },
  });
  return store;
}

/**
 * The file path of `key` under `root`. Throws a ValidationError for any key that could name
 * something outside the root, or that a directory tree cannot hold.
 */
export function resolveLocalKey(root: string, key: string): string {
  const bad = (why: string): never => {
    throw new ValidationError(`[smelter] [file] invalid key ${JSON.stringify(key)}: ${why}`);
  };
  if (typeof key !== "string" || key.length === 0) bad("a key must be a non-empty string");
  if (key.includes("\0")) bad("a key must not contain NUL bytes");
  if (key.startsWith("/") || key.startsWith("\\") || /^[A-Za-z]:/.test(key)) bad("a key is relative to the store's root and must not be an absolute path");
  const segments = key.split(/[\\/]/);
  if (segments.some((s) => s === ".." || s === ".")) bad('a key must not contain "." or ".." segments (keys can never leave the root)');
  if (segments.some((s) => s === "")) bad('a local key must not end in "/" or contain "//"');
  if (segments[0] === INTERNAL_DIR) bad(`"${INTERNAL_DIR}/" is reserved for temp files and multipart uploads`);
  const file = path.resolve(root, key);
  if (!file.startsWith(root + path.sep)) bad("it resolves outside the store's root");
  return file;
}

function checkLocalPrefix(prefix: string): void {
  if (prefix === "") return;
  if (prefix.includes("\0") || prefix.startsWith("/") || prefix.split(/[\\/]/).some((s) => s === ".." || s === "."))
    throw new ValidationError(`[smelter] [file] invalid prefix ${JSON.stringify(prefix)}: no NUL, no leading "/", no "." or ".." segments`);
}

/** The start of a key kept in its temp file's name (encoded), so a prefix's cleanup finds the temp files of writes under it. */
const TEMP_NAME_KEY_CHARS = 150;

/** A PUT's temp file name: the key's first characters, URI-encoded, then `~` and a unique id. */
function tempName(key: string, id: string): string {
  return `${encodeURIComponent(key).slice(0, TEMP_NAME_KEY_CHARS)}~${id}`;
}

/**
 * Removes the temp files of writes under `prefix` that never finished (an attempt killed in the
 * middle of a PUT: no `finally` ran) from a local store's .smelter/tmp; returns how many. Only
 * for a prefix short enough to be held whole in the names; other stores have none.
 */
export async function removeTempFilesUnder(store: ObjectStore, prefix: string): Promise<number> {
  const start = encodeURIComponent(prefix);
  if (!store.url.startsWith("file:") || start.length === 0 || start.length > TEMP_NAME_KEY_CHARS) return 0;
  const dir = path.join(fileURLToPath(store.url), INTERNAL_DIR, "tmp");
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const mine = names.filter((n) => n.includes("~") && n.slice(0, n.lastIndexOf("~")).startsWith(start));
  await Promise.all(mine.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return mine.length;
}

/**
 * Removes a local store's internal folder (`.smelter/`: temp files, emulated multipart uploads)
 * when nothing is left in it, so a result written beside the user's files leaves only the result.
 * Folders still in use (another upload) are kept.
 */
export async function removeEmptyInternalDir(store: ObjectStore): Promise<void> {
  if (!store.url.startsWith("file:")) return;
  const internal = path.join(fileURLToPath(store.url), INTERNAL_DIR);
  for (const d of [path.join(internal, "multipart"), path.join(internal, "tmp"), internal]) await fs.rmdir(d).catch(() => undefined);
}
