/**
 * The embedded S3 server: `s3rver` on loopback, so that everything runs on a laptop with no
 * account and no setup. Free port by default, a data directory (a temp one unless given),
 * the buckets created up front, and a clean shutdown (the temp dir removed).
 *
 * It runs in a child Node process started with `--openssl-legacy-provider`: s3rver encrypts
 * ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) refuses otherwise, so
 * any listing longer than one page would fail with a 500. A child also keeps the server's work
 * off the caller's event loop. The child exits when told to, or when its parent goes away.
 *
 * Signatures are checked: s3rver 3.7.1 lets any SigV4 request (and any unsigned one) through,
 * so the child puts a check (s3-sigv4.ts) in front of its routes: a wrong secret, an unknown
 * access key, an unsigned request are refused with S3's own error codes.
 *
 * s3rver lacks AbortMultipartUpload, ListParts and ListMultipartUploads and does not check
 * Content-MD5 (see docs/storage.md); the tests prove those against a complete server.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { fileSystemError, StoreError } from "./errors.js";
import { inDir, makeDirs } from "./local-dirs.js";
import { checkSigV4 } from "./s3-sigv4.js";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Where objects are kept. @default a new temp directory, removed by `stop()` */
  dir?: string;
  /** The port; 0 picks a free one. @default 0 */
  port?: number;
  /** The address to listen on: loopback only (the server checks signatures, but its default keys are public). @default "127.0.0.1" */
  host?: "127.0.0.1" | "::1" | "localhost";
  /** Buckets to create at start (existing ones are kept). @default ["smelter"] */
  buckets?: string[];
  /** Log every request to stdout. @default false */
  verbose?: boolean;
  /** The one key pair requests must be signed with. @default S3RVER / S3RVER (s3rver's, public: the server listens on loopback only) */
  accessKeyId?: string;
  secretAccessKey?: string;
}

const optionsSchema = z.strictObject({
  dir: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).default(0),
  host: z.enum(["127.0.0.1", "::1", "localhost"]).default("127.0.0.1"),
  buckets: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "bucket names are 3-63 lowercase letters, digits, dots and dashes")).default(["smelter"]),
  verbose: z.boolean().default(false),
  accessKeyId: z.string().regex(/^[A-Za-z0-9]{3,128}$/, "access key ids are 3-128 letters and digits").default("S3RVER"),
  secretAccessKey: z.string().min(1).max(128).default("S3RVER"),
});

/** A running embedded server. */
export interface S3Server {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** The data directory. */
  dir: string;
  buckets: string[];
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The environment a process needs to use this server through the standard AWS variables. */
  env: Record<string, string>;
  /** Closes every connection and the listener; removes the data directory when it was a temp one. */
  stop(): Promise<void>;
}

export const NAME = "s3rver";
const CHILD_FLAG = "--smelter-s3rver-child";
/** This module's file, which the child runs; named from one level under dist/src, so that the command line's bundle (scripts/bundle.mjs) names it too. */
const SELF = fileURLToPath(new URL("../storage/server.js", import.meta.url));
const childArgsSchema = z.object({ dir: z.string(), port: z.number().int(), host: z.string(), buckets: z.array(z.string()), verbose: z.boolean(), accessKeyId: z.string(), secretAccessKey: z.string() });
const readySchema = z.union([z.object({ port: z.number().int().positive() }), z.object({ error: z.string(), code: z.string().optional() })]);

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const opts = parseOrThrow(optionsSchema, options, "S3 server options");
  const ownDir = opts.dir === undefined;
  const dir = opts.dir !== undefined ? path.resolve(opts.dir) : await mkdtemp(path.join(tmpdir(), "smelter-s3-"));
  await makeDirs(dir).catch((err: unknown) => {
    throw fileSystemError(err, "use", `${dir} as the embedded S3 server's data directory`);
  });
  const child = spawn(process.execPath, ["--openssl-legacy-provider", SELF, CHILD_FLAG], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, SMELTER_S3RVER_ARGS: JSON.stringify({ ...opts, dir }) },
  });
  const lines = createInterface({ input: child.stdout });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreError(`[smelter] [s3] the embedded S3 server did not start within 20 s`)), 20_000);
      lines.once("line", (line) => {
        clearTimeout(timer);
        let ready: z.output<typeof readySchema> | undefined;
        try {
          ready = readySchema.parse(JSON.parse(line));
        } catch {
          ready = { error: line };
        }
        if ("port" in ready) return resolve(ready.port);
        const hint = ready.code === "EADDRINUSE" ? `: port ${opts.port} is in use, pass another or 0 for a free one` : "";
        reject(new StoreError(`[smelter] [s3] the embedded S3 server could not start: ${ready.error}${hint}`, { nonRetryable: true }));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new StoreError(`[smelter] [s3] the embedded S3 server exited during start (code ${code}); is port ${opts.port} free?`, { nonRetryable: true }));
      });
    });
  } catch (err) {
    child.kill("SIGKILL");
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // After the ready line, the child's stdout carries its request log (verbose) or nothing.
  lines.on("line", (line) => process.stderr.write(`${line}\n`));
  const host = opts.host === "::1" ? "[::1]" : opts.host;
  const endpoint = `http://${host}:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    dir,
    buckets: opts.buckets,
    region: "us-east-1",
    accessKeyId: opts.accessKeyId,
    secretAccessKey: opts.secretAccessKey,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: opts.accessKeyId, AWS_SECRET_ACCESS_KEY: opts.secretAccessKey, AWS_REGION: "us-east-1" },
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, "exit");
          child.stdin.end();
          const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(killer);
        }
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })()),
  };
}

interface KoaContext {
  method: string;
  req: { url?: string; headers: Record<string, string | string[] | undefined> };
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, string>) => Error;

interface S3rverInstance {
  /** Koa's middleware list (s3rver is a Koa app): composed when the server starts. */
  middleware: Middleware[];
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

interface RangedGetter {
  getObject(bucket: string, key: string, options?: { start?: number; end?: unknown }): Promise<unknown>;
}

/**
 * s3rver 3.7.1 computes a range's end as `options.end || Infinity`, so `Range: bytes=0-0` (the
 * first byte) returns the whole object. An end of 0 is passed on as a Number object: truthy, and
 * 0 wherever it is used as a number.
 */
function fixOneByteRanges(store: { prototype: RangedGetter }): void {
  const getObject = store.prototype.getObject;
  store.prototype.getObject = function (bucket, key, options) {
    return getObject.call(this, bucket, key, options?.end === 0 ? { ...options, end: Object(0) as unknown } : options);
  };
}

interface PutObjectInput {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: unknown;
}
interface ObjectWriter {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: PutObjectInput): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver 3.7.1's putObject creates the object's directory, then opens the object's file in place
 * with no 'error' listener. A DELETE of the last object under the same prefix removes the emptied
 * directory in between (s3rver's own cleanup), and the ENOENT of that open ended the whole server.
 * CI saw it: a Fargate worker's reply PUT raced the cleanup of another attempt's reply. Here the
 * body goes to a temp file in the object's directory (opened again after re-creating the
 * directory if it vanished), then is renamed over the object once written and flushed. Every
 * stream's error fails the request, not the server, and a GET never reads a half-written object.
 * Listings skip the temp file (not an `_S3rver_object`), and the directory holding it is not empty,
 * so the cleanup leaves it alone.
 */
function fixPutRace(store: { prototype: ObjectWriter }): void {
  let seq = 0;
  store.prototype.putObject = async function (object) {
    const objectPath = this.getResourcePath(object.bucket, object.key, "object");
    const temp = `${objectPath}.${process.pid}-${++seq}.tmp`;
    const file = await inDir(path.dirname(temp), () => open(temp, "w"));
    const md5 = createHash("md5");
    let size = 0;
    try {
      const body = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : (object.content as NodeJS.ReadableStream);
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(body, hashing, file.createWriteStream());
      await rename(temp, objectPath);
    } catch (err) {
      await file.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw err;
    }
    const digest = md5.digest("hex");
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

/** The child process: runs s3rver, prints `{"port":N}`, stops when stdin closes or on SIGTERM/SIGINT. */
async function runChild(): Promise<void> {
  const args = childArgsSchema.parse(JSON.parse(process.env.SMELTER_S3RVER_ARGS ?? "{}"));
  const require = createRequire(import.meta.url);
  const S3rver = require("s3rver") as S3rverClass;
  const S3Error = require("s3rver/lib/models/error") as S3ErrorClass;
  // s3rver's own (V2-only) check looks the key up in its account registry: the one pair, no other.
  const accounts = require("s3rver/lib/models/account") as { DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void } };
  if (args.accessKeyId !== "S3RVER") {
    accounts.DUMMY_ACCOUNT.createKeyPair(args.accessKeyId, args.secretAccessKey);
    accounts.DUMMY_ACCOUNT.revokeAccessKey("S3RVER");
  }
  fixOneByteRanges(require("s3rver/lib/stores/filesystem.js") as { prototype: RangedGetter });
  fixPutRace(require("s3rver/lib/stores/filesystem.js") as { prototype: ObjectWriter });
  const server = new S3rver({
    address: args.host,
    port: args.port,
    directory: args.dir,
    silent: !args.verbose,
    vhostBuckets: false,
    configureBuckets: args.buckets.map((name) => ({ name })),
  });
  // The signature check, after s3rver's request logger and before everything else.
  const secretFor = (id: string): string | undefined => (id === args.accessKeyId ? args.secretAccessKey : undefined);
  server.middleware.splice(1, 0, async (ctx, next) => {
    if (ctx.method !== "OPTIONS") {
      const check = checkSigV4({ method: ctx.method, url: ctx.req.url ?? "/", headers: ctx.req.headers }, secretFor);
      if (!check.ok) throw new S3Error(check.code, `${check.message} Use the keys the embedded server was started with (smelter s3 serve prints them).`);
    }
    await next();
  });
  // s3rver reports a failed listen as an 'error' event nobody handles: report it as data.
  const fail = (err: unknown): never => {
    const e = err as NodeJS.ErrnoException;
    process.stdout.write(`${JSON.stringify({ error: e?.message ?? String(err), code: e?.code })}\n`);
    process.exit(1);
  };
  process.once("uncaughtException", fail);
  try {
    const address = await server.run();
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  } catch (err) {
    fail(err);
  }
  const stop = async (): Promise<void> => {
    const closing = server.close();
    server.httpServer?.closeAllConnections();
    await closing.catch(() => undefined);
    process.exit(0);
  };
  process.stdin.on("end", () => void stop());
  process.stdin.resume();
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

if (process.argv[2] === CHILD_FLAG && process.argv[1] === fileURLToPath(import.meta.url)) await runChild();
