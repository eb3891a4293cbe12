/**
 * S3 (and S3-compatible servers) through `@aws-sdk/client-s3`. The only module besides
 * server.ts that loads `@aws-sdk/*`; url.ts imports it lazily for `s3://` URLs.
 *
 * Retries: the SDK's own "standard" retry strategy (exponential backoff with jitter, retrying
 * throttling errors such as SlowDown and 503, 5xx and transient network errors), with
 * `maxAttempts` attempts per call; what still fails is translated into store errors.
 */
import {
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
} from "@aws-sdk/client-s3";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import type { MultipartOps, ObjectInfo, ObjectStore, OpenUpload, UploadedPart } from "./contract.js";
import { translateS3Error, type S3ErrorContext } from "./s3-errors.js";
import { defineStore } from "./store.js";
import { checkRange, md5Base64, rangeHeader } from "./util.js";

/** Options of {@link s3Store}. */
export interface S3StoreOptions {
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
  /** Attempts per call, the first included, for the SDK's standard retry strategy. @default 5 */
  maxAttempts?: number;
  /** Objects per listing page when the caller gives none (S3's maximum is 1000). @default 1000 */
  pageSize?: number;
  /** Send the SDK's default CRC checksums on every upload ("when-supported") or only when an API requires one. @default "when-required" with a custom endpoint, else "when-supported" */
  checksums?: "when-supported" | "when-required";
}

const optionsSchema = z.strictObject({
  bucket: z.string().min(1),
  prefix: z.string().default(""),
  region: z.string().min(1).optional(),
  endpoint: z.url().optional(),
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() }).optional(),
  forcePathStyle: z.boolean().optional(),
  maxAttempts: z.number().int().min(1).default(5),
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
  const client = new S3Client({
    region,
    endpoint,
    credentials: opts.credentials,
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    maxAttempts: opts.maxAttempts,
    retryMode: "standard",
    requestChecksumCalculation: whenRequired ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
    responseChecksumValidation: whenRequired ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  });
  const Bucket = opts.bucket;
  const url = `s3://${Bucket}${prefix ? `/${prefix.replace(/\/$/, "")}` : ""}`;
  const where = endpoint ?? `AWS region ${region ?? "(from the SDK's config)"}`;

  /** Runs one SDK call; any failure becomes a store error naming the call, key and endpoint. */
  async function call<T>(ctx: Omit<S3ErrorContext, "bucket" | "where" | "url">, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateS3Error(err, { ...ctx, bucket: Bucket, where, url });
    }
  }
  const full = (key: string): string => prefix + key;
  const short = (key: string): string => key.slice(prefix.length);

  /** The body of a GET; undefined for S3's 416 (a range starting at or past the end): no bytes. */
  async function getBody(key: string, range: string | undefined, signal: AbortSignal | undefined) {
    let res;
    try {
      res = await client.send(new GetObjectCommand({ Bucket, Key: full(key), Range: range }), { abortSignal: signal });
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (range && (e.name === "InvalidRange" || e.$metadata?.httpStatusCode === 416)) return undefined;
      throw translateS3Error(err, { op: "GetObject", key, bucket: Bucket, where, url });
    }
    if (!res.Body) throw translateS3Error(new Error("GetObject returned no body"), { op: "GetObject", key, bucket: Bucket, where, url });
    return res.Body;
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const res = await client.send(new HeadObjectCommand({ Bucket, Key: full(key) }));
      return { key, size: res.ContentLength ?? 0, etag: res.ETag, lastModified: res.LastModified };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return undefined;
      throw translateS3Error(err, { op: "HeadObject", key, bucket: Bucket, where, url });
    }
  }

  const multipart: MultipartOps = {
    async create(key, o) {
      const res = await call({ op: "CreateMultipartUpload", key }, () =>
        client.send(new CreateMultipartUploadCommand({ Bucket, Key: full(key), ContentType: o?.contentType }), { abortSignal: o?.signal }),
      );
      return z.string().min(1).parse(res.UploadId);
    },
    async uploadPart(key, uploadId, partNumber, body, o) {
      const res = await call({ op: "UploadPart", key, uploadId }, () =>
        client.send(new UploadPartCommand({ Bucket, Key: full(key), UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.byteLength, ContentMD5: o?.contentMd5 }), {
          abortSignal: o?.signal,
        }),
      );
      return { partNumber, etag: z.string().min(1).parse(res.ETag), size: body.byteLength };
    },
    async complete(key, uploadId, parts) {
      const res = await call({ op: "CompleteMultipartUpload", key, uploadId }, () =>
        client.send(
          new CompleteMultipartUploadCommand({ Bucket, Key: full(key), UploadId: uploadId, MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) } }),
        ),
      );
      return { etag: res.ETag };
    },
    async abort(key, uploadId) {
      await call({ op: "AbortMultipartUpload", key, uploadId }, () => client.send(new AbortMultipartUploadCommand({ Bucket, Key: full(key), UploadId: uploadId })));
    },
    async listParts(key, uploadId): Promise<UploadedPart[]> {
      const out: UploadedPart[] = [];
      let marker: string | undefined;
      for (;;) {
        const res = await call({ op: "ListParts", key, uploadId }, () => client.send(new ListPartsCommand({ Bucket, Key: full(key), UploadId: uploadId, PartNumberMarker: marker })));
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
        const res = await call({ op: "ListMultipartUploads", key: p }, () =>
          client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: full(p), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
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
        const res = await call({ op: "ListObjectsV2", key: p }, () =>
          client.send(new ListObjectsV2Command({ Bucket, Prefix: full(p), MaxKeys: o?.pageSize ?? opts.pageSize, ContinuationToken: token }), { abortSignal: o?.signal }),
        );
        const page: ObjectInfo[] = (res.Contents ?? []).map((c) => {
          const obj = listedObjectSchema.parse(c);
          return { key: short(obj.Key), size: obj.Size ?? 0, etag: obj.ETag, lastModified: obj.LastModified };
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
        if (!(await head(key))) throw translateS3Error({ name: "NoSuchKey" }, { op: "GetObject", key, bucket: Bucket, where, url });
        return new Uint8Array(0);
      }
      const body = await getBody(key, r ? rangeHeader(r) : undefined, o?.signal);
      if (!body) return new Uint8Array(0);
      return call({ op: "GetObject", key }, () => body.transformToByteArray());
    },
    async *getStream(key, o) {
      checkRange(o?.range);
      if (o?.range && o.range.end === o.range.start) return;
      const body = await getBody(key, o?.range ? rangeHeader(o.range) : undefined, o?.signal);
      if (!body) return;
      try {
        for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
      } catch (err) {
        throw translateS3Error(err, { op: "GetObject", key, bucket: Bucket, where, url });
      }
    },
    async put(key, body, o) {
      const res = await call({ op: "PutObject", key }, () =>
        client.send(new PutObjectCommand({ Bucket, Key: full(key), Body: body, ContentLength: body.byteLength, ContentType: o?.contentType, ContentMD5: md5Base64(body) }), {
          abortSignal: o?.signal,
        }),
      );
      return { etag: res.ETag };
    },
    async delete(key) {
      await call({ op: "DeleteObject", key }, () => client.send(new DeleteObjectCommand({ Bucket, Key: full(key) })));
    },
    head,
    multipart,
    async close() {
      client.destroy();
    },
  });
}
