/**
 * S3 (and S3-compatible servers) through `@aws-sdk/client-s3`. The only module besides
 * server.ts that loads `@aws-sdk/*`; url.ts imports it lazily for `s3://` URLs.
 *
 * Retries: the SDK's own "standard" retry strategy (exponential backoff with jitter, retrying
 * throttling errors such as SlowDown and 503, 5xx, timeouts and transient network errors), with
 * `maxAttempts` attempts per call; what still fails is translated into store errors.
 *
 * Nothing waits forever (s3-timeouts.ts): connect, first-byte (response headers) and stall
 * (socket silence, body included) timeouts on every request, and a deadline on every call. A
 * response body that fails midway (stall, reset, truncated) is resumed with a ranged GET from the
 * byte reached, pinned to the first response's ETag, up to `maxAttempts` times.
 *
 * `get` on a plain-http path-style endpoint does not go through the SDK: s3-socket-get.ts reads
 * the body over raw sockets straight into the returned buffer (the SDK's socket path costs ~2.6
 * CPU-s per GiB on loopback; docs/performance.md), with the same retries, timeouts, resumes,
 * errors and If-Match pinning; anything else, and `getStream`, use the SDK.
 *
 * PUTs are signed with an unsigned payload, and `put` carries a CRC32 checksum the server checks
 * instead of a Content-MD5 (docs/storage.md): no SHA-256 and MD5 passes over every byte.
 */
import { createRequire } from "node:module";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import { sleepOn, systemContext, type RuntimeContext } from "../job/runtime-context.js";
import { readBuffer, type MultipartOps, type ObjectInfo, type ObjectStore, type OpenUpload, type UploadedPart } from "./contract.js";
import { NoSuchUploadError, StoreError } from "./errors.js";
import { callTimeout, isTransientBodyError, translateS3Error, TruncatedBodyError, type S3ErrorContext } from "./s3-errors.js";
import { defineStore } from "./store.js";
import { checkVersion, etagVersion, InputChangedError, objectUrl } from "./versions.js";
import { resolveS3Timeouts, type S3Timeouts } from "./s3-timeouts.js";
import { checkRange, crc32Base64, multipartEtag, rangeHeader, stripEtag } from "./util.js";
import { S3SocketGet, socketGetEndpoint } from "./s3-socket-get.js";
import { UnsupportedResponseError, type GetProgress } from "./socket-http-get.js";

// CommonJS, loaded with `require` as src/duckdb/index.ts explains: 77 CPU-ms against 143 for
// `import`, paid at every worker's, Lambda's and container's start.
const {
  S3Client,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListPartsCommand,
  ListMultipartUploadsCommand,
} = createRequire(import.meta.url)("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");

/** Options of {@link s3Store}. */
export interface S3StoreOptions {
  /** Clock, random and ids (the Manager's runtime context, when the store serves a job). @default the process's default context */
  context?: RuntimeContext;
  /** The bucket. */
  bucket: string;
  /** A key prefix every key of this store lives under (a `/` is appended when missing). @default "" */
  prefix?: string;
  /** The region. @default AWS_REGION, else AWS_DEFAULT_REGION, else the SDK's config files, else "us-east-1" for a custom endpoint */
  region?: string;
  /** A custom endpoint (MinIO, the embedded server). @default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS's own */
  endpoint?: string;
  /** Static credentials. @default the SDK's standard chain (env vars, profile/SSO, web identity, container and instance roles) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing (`http://host/bucket/key`). @default true with a custom endpoint, false otherwise */
  forcePathStyle?: boolean;
  /** Attempts per call, the first included, for the SDK's standard retry strategy (and body resumes). @default SMELTER_S3_MAX_ATTEMPTS, else 5 */
  maxAttempts?: number;
  /** Connect, first-byte, stall and per-call timeouts, ms. @default SMELTER_S3_*_TIMEOUT_MS, else 5 s, 30 s, 30 s, 300 s (s3-timeouts.ts) */
  timeouts?: Partial<Omit<S3Timeouts, "maxAttempts">>;
  /** Objects per listing page when the caller gives none (S3's maximum is 1000). @default 1000 */
  pageSize?: number;
  /** Send the SDK's default CRC checksums on every upload ("when-supported") or only when an API requires one. @default "when-required" with a custom endpoint, else "when-supported" */
  checksums?: "when-supported" | "when-required";
}

const optionsSchema = z.strictObject({
  context: z.custom<RuntimeContext>((c) => typeof c === "object" && c !== null && "clock" in c && "ids" in c, "a runtime context (createRuntimeContext())").optional(),
  bucket: z.string().min(1),
  prefix: z.string().default(""),
  region: z.string().min(1).optional(),
  endpoint: z.url().optional(),
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() }).optional(),
  forcePathStyle: z.boolean().optional(),
  maxAttempts: z.number().int().min(1).optional(),
  timeouts: z.strictObject({ connectMs: z.number().optional(), firstByteMs: z.number().optional(), stallMs: z.number().optional(), callMs: z.number().optional() }).optional(),
  pageSize: z.number().int().min(1).max(1000).default(1000),
  checksums: z.enum(["when-supported", "when-required"]).optional(),
});

const listedObjectSchema = z.object({ Key: z.string(), Size: z.number().nonnegative().optional(), ETag: z.string().optional(), LastModified: z.date().optional() });
const listedPartSchema = z.object({ PartNumber: z.number().int(), ETag: z.string(), Size: z.number().optional() });
const listedUploadSchema = z.object({ Key: z.string(), UploadId: z.string() });

export const NAME = "s3";

// The SDK warns on every process that Node 20 support ends in 2027; Smelter targets Node 20 on
// purpose, so the warning is not actionable here. An explicit setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export function s3Store(options: S3StoreOptions): ObjectStore {
  const opts = parseOrThrow(optionsSchema, options, "s3Store options");
  const env = process.env;
  const endpoint = opts.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  const region = opts.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? "us-east-1" : undefined));
  const prefix = opts.prefix === "" || opts.prefix.endsWith("/") ? opts.prefix : `${opts.prefix}/`;
  const whenRequired = (opts.checksums ?? (endpoint ? "when-required" : "when-supported")) === "when-required";
  const context = opts.context ?? systemContext();
  const limits = resolveS3Timeouts({ ...opts.timeouts, maxAttempts: opts.maxAttempts });
  const client = new S3Client({
    region,
    endpoint,
    credentials: opts.credentials,
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    maxAttempts: limits.maxAttempts,
    retryMode: "standard",
    // NodeHttpHandler's options: requestTimeout runs until the response headers (first byte);
    // socketTimeout is socket inactivity, so it also catches a body that stops flowing.
    requestHandler: { connectionTimeout: limits.connectMs, requestTimeout: limits.firstByteMs, throwOnRequestTimeout: true, socketTimeout: limits.stallMs },
    requestChecksumCalculation: whenRequired ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
    responseChecksumValidation: whenRequired ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  });
  // Bodies are not hashed for the signature (SHA-256 of every byte: a third of a PUT's client CPU
  // on loopback): PutObject carries a CRC32 the server checks, UploadPart a Content-MD5, and
  // https endpoints TLS besides.
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> };
      if (request.method === "PUT" && request.headers) request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      return next(args);
    },
    { step: "build", name: "smelterUnsignedPayload" },
  );
  const Bucket = opts.bucket;
  const url = `s3://${Bucket}${prefix ? `/${prefix.replace(/\/$/, "")}` : ""}`;
  const where = endpoint ?? `AWS region ${region ?? "(from the SDK's config)"}`;

  // Plain-http path-style endpoints: GETs read over raw sockets into the returned buffer (s3-socket-get.ts).
  const socketEndpoint = socketGetEndpoint(endpoint, opts.forcePathStyle ?? endpoint !== undefined);
  const sockets = socketEndpoint
    ? new S3SocketGet({ endpoint: socketEndpoint, bucket: Bucket, credentials: () => client.config.credentials(), region: () => client.config.region(), limits, context })
    : undefined;
  /** The endpoint answered a GET in a way the socket reader does not read (e.g. chunked): the SDK from then on. */
  let socketsRefused = false;

  const errorContext = (op: string, key?: string, uploadId?: string): S3ErrorContext => ({ op, key, uploadId, bucket: Bucket, where, url, limits });

  /**
   * Runs one store call under the call deadline (`callMs`, retries included); any failure becomes
   * a store error naming the call, key and endpoint. `fn` gets the signal to pass to the SDK.
   */
  async function call<T>(ctx: { op: string; key?: string; uploadId?: string }, fn: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const deadline = new AbortController();
    const timer = context.clock.setTimeout(() => deadline.abort(), limits.callMs, { unref: true });
    const signal = outer ? AbortSignal.any([outer, deadline.signal]) : deadline.signal;
    try {
      return await fn(signal);
    } catch (err) {
      if (deadline.signal.aborted && !outer?.aborted) throw callTimeout(errorContext(ctx.op, ctx.key, ctx.uploadId), err);
      throw translateS3Error(err, errorContext(ctx.op, ctx.key, ctx.uploadId));
    } finally {
      context.clock.clearTimeout(timer);
    }
  }
  const full = (key: string): string => prefix + key;
  const short = (key: string): string => key.slice(prefix.length);

  /** What a GET's error answer means to a read: 412 to an If-Match (the object changed), or 416 to a range (no bytes). */
  function getAnswer(err: unknown, ifMatch: string | undefined, ranged: boolean): "changed" | "no bytes" | undefined {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (ifMatch !== undefined && (e.name === "PreconditionFailed" || status === 412)) return "changed";
    if (ranged && (e.name === "InvalidRange" || status === 416)) return "no bytes";
    return undefined;
  }
  const changedSince = (key: string, etag: string, cause: unknown) => new InputChangedError(objectUrl(url, key), `its ETag is no longer ${etag}: 412 PreconditionFailed`, { cause });
  /** The wait before a body cut midway is resumed (both GET paths). */
  const resumeAfter = (attempt: number, signal: AbortSignal) => sleepOn(context.clock, Math.min(2000, 50 * 2 ** attempt * (0.5 + context.random())), signal);

  /**
   * One GetObject; undefined for S3's 416 (a range starting at or past the end): no bytes.
   * `ifMatch` pins a resumed read to the object first seen.
   */
  async function openGet(key: string, range: { start: number; end?: number } | undefined, signal: AbortSignal, ifMatch?: string) {
    try {
      const res = await client.send(new GetObjectCommand({ Bucket, Key: full(key), Range: range ? rangeHeader(range) : undefined, IfMatch: ifMatch }), { abortSignal: signal });
      if (!res.Body) throw new Error("GetObject returned no body");
      return { body: res.Body as AsyncIterable<Uint8Array>, length: res.ContentLength, etag: res.ETag };
    } catch (err) {
      const answer = getAnswer(err, ifMatch, range !== undefined);
      if (answer === "changed") throw changedSince(key, ifMatch!, err);
      if (answer === "no bytes") return undefined;
      throw err;
    }
  }

  /**
   * The bytes of an object or range, resumed from the byte reached when the body fails midway
   * (stalled, reset, cut short), at most `maxAttempts` bodies in all. Errors are untranslated.
   */
  async function* readObject(key: string, range: { start: number; end?: number } | undefined, signal: AbortSignal, version?: string, onFirstByte?: () => void): AsyncGenerator<Uint8Array> {
    let pos = range?.start ?? 0;
    const end = range?.end;
    let etag = version === undefined ? undefined : `"${version}"`;
    for (let attempt = 1; ; attempt++) {
      const res = await openGet(key, range || pos > 0 ? { start: pos, end } : undefined, signal, etag);
      if (attempt === 1) onFirstByte?.();
      // A server that ignores If-Match (s3rver) still names the version it sent.
      if (version !== undefined) checkVersion(objectUrl(url, key), version, etagVersion(res ? res.etag : (await head(key))?.etag));
      if (!res) return;
      etag ??= res.etag;
      let got = 0;
      try {
        for await (const chunk of res.body) {
          got += chunk.byteLength;
          pos += chunk.byteLength;
          yield chunk;
        }
        if (res.length !== undefined && got < res.length) throw new TruncatedBodyError(got, res.length);
        return;
      } catch (err) {
        if (signal.aborted || attempt >= limits.maxAttempts || !isTransientBodyError(err)) throw err;
        if (end !== undefined && pos >= end) return;
        await resumeAfter(attempt, signal);
      }
    }
  }
  /**
   * An object or range through the socket reader, into one buffer sized by the first response's
   * Content-Length; a body that fails midway is resumed into the same buffer from the byte
   * reached (pinned by If-Match, as readObject does), at most `maxAttempts` bodies in all.
   */
  async function readDirect(sock: S3SocketGet, key: string, range: { start: number; end?: number } | undefined, signal: AbortSignal, version?: string, onFirstByte?: () => void, into?: Uint8Array): Promise<Uint8Array> {
    const start = range?.start ?? 0;
    const object = objectUrl(url, key);
    let etag = version === undefined ? undefined : `"${version}"`;
    let out: Buffer | undefined;
    let filled = 0;
    const progress: GetProgress = { head: undefined, received: 0, reused: false };
    for (let attempt = 1; ; attempt++) {
      const resuming = out !== undefined;
      try {
        await sock.get(full(key), {
          range: range || resuming ? { start: start + filled, end: range?.end } : undefined,
          ifMatch: etag,
          signal,
          progress,
          into: (got) => {
            if (attempt === 1) onFirstByte?.();
            if (version !== undefined) checkVersion(object, version, etagVersion(got.etag));
            if (!out) {
              etag ??= got.etag;
              out = readBuffer(got.length, into);
              return out;
            }
            // A server that ignores If-Match (s3rver) still names what it sent.
            if (got.length !== out.length - filled || (got.etag !== undefined && etag !== undefined && etagVersion(got.etag) !== etagVersion(etag)))
              throw new InputChangedError(object, `a resumed read got ${got.length} bytes of ETag ${got.etag ?? "?"} for the ${out.length - filled} left of ETag ${etag ?? "?"}`);
            return out.subarray(filled);
          },
        });
        return out ?? new Uint8Array(0);
      } catch (err) {
        const answered = progress.head;
        if (answered && answered.status >= 200 && answered.status < 300) {
          // The body failed midway: resume from the byte reached.
          filled += progress.received;
          if (signal.aborted || attempt >= limits.maxAttempts || !isTransientBodyError(err)) throw err;
          await resumeAfter(attempt, signal);
          continue;
        }
        const answer = getAnswer(err, etag, range !== undefined || resuming);
        if (answer === "changed") throw changedSince(key, etag!, err);
        if (answer === "no bytes") {
          if (resuming) throw new InputChangedError(object, "a resumed read found the object shorter than its first answer said", { cause: err });
          if (version !== undefined) checkVersion(object, version, etagVersion((await head(key))?.etag));
          return new Uint8Array(0);
        }
        throw err;
      }
    }
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    return call({ op: "HeadObject", key }, async (signal) => {
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: full(key) }), { abortSignal: signal });
        return { key, size: res.ContentLength ?? 0, etag: res.ETag, lastModified: res.LastModified, version: etagVersion(res.ETag) };
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    });
  }

  const multipart: MultipartOps = {
    async create(key, o) {
      const res = await call({ op: "CreateMultipartUpload", key }, (signal) =>
        client.send(new CreateMultipartUploadCommand({ Bucket, Key: full(key), ContentType: o?.contentType }), { abortSignal: signal }),
        o?.signal,
      );
      return z.string().min(1).parse(res.UploadId);
    },
    async uploadPart(key, uploadId, partNumber, body, o) {
      const res = await call({ op: "UploadPart", key, uploadId }, (signal) =>
        client.send(new UploadPartCommand({ Bucket, Key: full(key), UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.byteLength, ContentMD5: o?.contentMd5 }), {
          abortSignal: signal,
        }),
        o?.signal,
      );
      return { partNumber, etag: z.string().min(1).parse(res.ETag), size: body.byteLength };
    },
    async complete(key, uploadId, parts) {
      try {
        const res = await call({ op: "CompleteMultipartUpload", key, uploadId }, (signal) =>
          client.send(
            new CompleteMultipartUploadCommand({ Bucket, Key: full(key), UploadId: uploadId, MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) } }),
            { abortSignal: signal },
          ),
        );
        return { etag: res.ETag };
      } catch (err) {
        // A retried Complete whose first try went through (its response lost or late) finds the
        // upload gone (NoSuchUpload; s3rver: a 500): the object holding exactly these parts,
        // by its multipart ETag, is the success it missed.
        if (!(err instanceof NoSuchUploadError) && !(err instanceof StoreError)) throw err;
        const info = await head(key).catch(() => undefined);
        const etag = multipartEtag(parts.map((p) => p.etag));
        if (info?.etag !== undefined && stripEtag(info.etag) === stripEtag(etag)) return { etag: info.etag };
        throw err;
      }
    },
    async abort(key, uploadId) {
      await call({ op: "AbortMultipartUpload", key, uploadId }, (signal) => client.send(new AbortMultipartUploadCommand({ Bucket, Key: full(key), UploadId: uploadId }), { abortSignal: signal }));
    },
    async listParts(key, uploadId): Promise<UploadedPart[]> {
      const out: UploadedPart[] = [];
      let marker: string | undefined;
      for (;;) {
        const res = await call({ op: "ListParts", key, uploadId }, (signal) => client.send(new ListPartsCommand({ Bucket, Key: full(key), UploadId: uploadId, PartNumberMarker: marker }), { abortSignal: signal }));
        for (const p of res.Parts ?? []) {
          const part = listedPartSchema.parse(p);
          out.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size });
        }
        if (!res.IsTruncated || !res.NextPartNumberMarker) break;
        marker = res.NextPartNumberMarker;
      }
      return out.sort((a, b) => a.partNumber - b.partNumber);
    },
    async listUploads(p = ""): Promise<OpenUpload[]> {
      const out: OpenUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const res = await call({ op: "ListMultipartUploads", key: p }, (signal) =>
          client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: full(p), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), { abortSignal: signal }),
        );
        for (const u of res.Uploads ?? []) {
          const up = listedUploadSchema.parse(u);
          out.push({ key: short(up.Key), uploadId: up.UploadId });
        }
        if (!res.IsTruncated) break;
        keyMarker = res.NextKeyMarker;
        uploadIdMarker = res.NextUploadIdMarker;
      }
      return out;
    },
  };

  return defineStore({
    kind: NAME,
    url,
    async *listPages(p, o) {
      let token: string | undefined;
      for (;;) {
        const res = await call({ op: "ListObjectsV2", key: p }, (signal) =>
          client.send(new ListObjectsV2Command({ Bucket, Prefix: full(p), MaxKeys: o?.pageSize ?? opts.pageSize, ContinuationToken: token }), { abortSignal: signal }),
          o?.signal,
        );
        const page: ObjectInfo[] = (res.Contents ?? []).map((c) => {
          const obj = listedObjectSchema.parse(c);
          return { key: short(obj.Key), size: obj.Size ?? 0, etag: obj.ETag, lastModified: obj.LastModified, version: etagVersion(obj.ETag) };
        });
        if (page.length > 0) yield page;
        if (!res.IsTruncated || !res.NextContinuationToken) return;
        token = res.NextContinuationToken;
      }
    },
    async get(key, o) {
      checkRange(o?.range);
      const r = o?.range;
      if (r && r.end === r.start) {
        // An empty range has no Range header; it still needs the object to exist.
        const info = await head(key);
        if (!info) throw translateS3Error({ name: "NoSuchKey" }, errorContext("GetObject", key));
        checkVersion(objectUrl(url, key), o?.version, info.version);
        return new Uint8Array(0);
      }
      return call(
        { op: "GetObject", key },
        async (signal) => {
          if (sockets && !socketsRefused) {
            try {
              return await readDirect(sockets, key, r, signal, o?.version, o?.onFirstByte, o?.into);
            } catch (err) {
              if (!(err instanceof UnsupportedResponseError)) throw err;
              socketsRefused = true;
            }
          }
          const chunks: Uint8Array[] = [];
          for await (const c of readObject(key, r, signal, o?.version, o?.onFirstByte)) chunks.push(c);
          // A Buffer (a Uint8Array) as it comes: copied once, and its indexOf is native (csv-range.ts searches newlines with it).
          return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        },
        o?.signal,
      );
    },
    async *getStream(key, o) {
      checkRange(o?.range);
      if (o?.range && o.range.end === o.range.start) return;
      const signal = o?.signal ?? new AbortController().signal;
      try {
        yield* readObject(key, o?.range, signal, o?.version);
      } catch (err) {
        throw translateS3Error(err, errorContext("GetObject", key));
      }
    },
    async put(key, body, o) {
      const res = await call({ op: "PutObject", key }, (signal) =>
        client.send(new PutObjectCommand({ Bucket, Key: full(key), Body: body, ContentLength: body.byteLength, ContentType: o?.contentType, ChecksumCRC32: crc32Base64(body) }), {
          abortSignal: signal,
        }),
        o?.signal,
      );
      return { etag: res.ETag };
    },
    async delete(key) {
      await call({ op: "DeleteObject", key }, (signal) => client.send(new DeleteObjectCommand({ Bucket, Key: full(key) }), { abortSignal: signal }));
    },
    head,
    multipart,
    async close() {
      sockets?.close();
      client.destroy();
    },
  });
}
