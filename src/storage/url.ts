/**
 * Opens a store from a URL: `s3://bucket/prefix`, `file:///abs/dir`, a plain local path, or
 * `memory://name/prefix`. The URL may name a prefix or one object: the store is rooted at the
 * bucket / directory / memory name and `key` is the rest (a key or a prefix, `""` for the root).
 * The S3 adapter is loaded only when an `s3://` URL is opened.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../job/errors.js";
import type { ObjectStore } from "./contract.js";
import { localStore, type LocalStoreOptions } from "./local.js";
import { memoryStore, type MemoryStoreOptions } from "./memory.js";
import type { RuntimeContext } from "../job/runtime-context.js";
import type { S3StoreOptions } from "./s3.js";
import { hasWildcard } from "./wildcards.js";

/** Options of {@link openStore}, per kind of store. */
export interface OpenStoreOptions {
  /** Passed to `s3Store` (bucket comes from the URL). @default {} */
  s3?: Omit<S3StoreOptions, "bucket">;
  /** Passed to `localStore`. @default {} */
  local?: LocalStoreOptions;
  /** Passed to `memoryStore`. @default {} */
  memory?: MemoryStoreOptions;
  /** The runtime context every store opened gets (the Manager's, for a job's stores). @default the process's default context */
  context?: RuntimeContext;
}

export type ParsedStoreUrl =
  | { scheme: "s3"; bucket: string; key: string }
  | { scheme: "file"; path: string; trailingSlash: boolean }
  | { scheme: "memory"; name: string; key: string };

export interface OpenedStore {
  store: ObjectStore;
  /** The object key or prefix the URL names inside the store; `""` for the whole store. */
  key: string;
}

const SUPPORTED = "use s3://bucket/prefix, file:///absolute/dir, a local path, or memory://name";

/** Splits a store URL into its parts without touching any store. Throws ConfigError. */
export function parseStoreUrl(url: string): ParsedStoreUrl {
  if (typeof url !== "string" || url.length === 0) throw new ConfigError(`empty store URL: ${SUPPORTED}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { scheme: "file", path: path.resolve(url), trailingSlash: /[\\/]$/.test(url) };
  const rest = url.slice(scheme.length + 3);
  if (scheme === "s3") {
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`"${url}" has no valid bucket name: write s3://bucket/prefix (3-63 lowercase letters, digits, dots, dashes)`);
    return { scheme: "s3", bucket, key: slash < 0 ? "" : rest.slice(slash + 1) };
  }
  if (scheme === "file") {
    let p: string;
    try {
      p = fileURLToPath(url);
    } catch (err) {
      throw new ConfigError(`"${url}" is not a valid file URL: write file:///absolute/path or a plain path`, { cause: err });
    }
    return { scheme: "file", path: path.resolve(p), trailingSlash: url.endsWith("/") };
  }
  if (scheme === "memory") {
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (name === "") throw new ConfigError(`"${url}" has no store name: write memory://name/prefix`);
    return { scheme: "memory", name, key: slash < 0 ? "" : rest.slice(slash + 1) };
  }
  throw new ConfigError(`unsupported store URL scheme "${scheme}://" in "${url}": ${SUPPORTED}`);
}

const registeredMemoryStores = new Map<string, ObjectStore>();

/**
 * Makes every `openStore("memory://<name>/...")` in this process answer `store` (a wrapper of a
 * memory store that counts calls or injects faults, in tests) until the returned function is called.
 */
export function registerMemoryStore(name: string, store: ObjectStore): () => void {
  registeredMemoryStores.set(name, store);
  return () => {
    if (registeredMemoryStores.get(name) === store) registeredMemoryStores.delete(name);
  };
}

/**
 * Opens the store a URL points into. For a local path that is an existing directory (or ends in
 * `/`) the store is that directory and `key` is `""`; a glob with a wildcard in a directory segment
 * is rooted at the directory before that segment, `key` the rest; otherwise the store is its parent
 * and `key` the last segment (an object, or a name prefix such as `part-`).
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const parsed = parseStoreUrl(url);
  switch (parsed.scheme) {
    case "s3": {
      const { s3Store } = await import("./s3.js");
      return { store: s3Store({ ...withContext(options.s3, options.context), bucket: parsed.bucket }), key: parsed.key };
    }
    case "memory":
      return { store: registeredMemoryStores.get(parsed.name) ?? memoryStore(parsed.name, withContext(options.memory, options.context)), key: parsed.key };
    case "file": {
      const st = await fs.stat(parsed.path).catch(() => undefined);
      if (parsed.trailingSlash || st?.isDirectory() || parsed.path === path.parse(parsed.path).root)
        return { store: localStore(parsed.path, withContext(options.local, options.context)), key: "" };
      // A glob with a wildcard in a directory segment (data/*/part-*.csv, data/**/x.parquet, data/202[45]/*.csv, data/{a,b}/*.csv): the store is the directory before it, the key the rest (was a store rooted at a directory named "**": no objects).
      const segments = parsed.path.split("/");
      const wild = segments.findIndex(hasWildcard);
      if (!st && wild > 0 && wild < segments.length - 1) {
        return { store: localStore(segments.slice(0, wild).join("/") || "/", withContext(options.local, options.context)), key: segments.slice(wild).join("/") };
      }
      return { store: localStore(path.dirname(parsed.path), withContext(options.local, options.context)), key: path.basename(parsed.path) };
    }
  }
}

/** A store's options with the caller's runtime context added (its own `context` wins). */
function withContext<T extends { context?: RuntimeContext }>(options: T | undefined, context: RuntimeContext | undefined): T {
  return { ...(context ? { context } : {}), ...options } as T;
}

/**
 * Opens the store a task was given by URL, rooted exactly where the coordinator's store is
 * (an `s3://bucket/prefix` store keeps its prefix; a `file://` URL is always a directory).
 * S3 endpoint and credentials come from the environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
 * ...), which pool workers inherit from the manager. A `memory://` store is per process: use it
 * with the inline backend only.
 */
export async function openRootStore(storeUrl: string): Promise<ObjectStore> {
  const parsed = parseStoreUrl(storeUrl);
  if (parsed.scheme === "s3" && parsed.key !== "") return (await openStore(storeUrl, { s3: { prefix: parsed.key } })).store;
  if (parsed.scheme === "file") return (await openStore(storeUrl.endsWith("/") ? storeUrl : `${storeUrl}/`)).store;
  const { store, key } = await openStore(storeUrl);
  if (key !== "") throw new ConfigError(`store URL "${storeUrl}" names a prefix inside a memory store: pass the store's own url (store.url)`);
  return store;
}

/** The local file a store URL names (a path or `file://` URL), or undefined for a bucket or memory URL. */
export function localFilePath(url: string): string | undefined {
  const parsed = parseStoreUrl(url);
  return parsed.scheme === "file" ? parsed.path : undefined;
}
