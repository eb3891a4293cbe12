/**
 * S3 GetObject over raw sockets (socket-http-get.ts) for plain `http://` endpoints with
 * path-style addressing (the embedded server, versitygw, MinIO on loopback): the body is read
 * straight into the buffer the S3 store returns, with no Buffer per socket read. Signed with
 * SigV4 by `@smithy/signature-v4` with the store's own S3Client's credentials and region, so the
 * same credential chain applies. Retried before the response head as the SDK's `standard`
 * strategy does (throttling and transient errors, exponential backoff with jitter, `maxAttempts`);
 * the S3 store resumes a body cut midway. A non-2xx answer becomes an error shaped as the SDK's
 * (`name`/`Code` from S3's XML, `$metadata.httpStatusCode`, `$metadata.attempts`), so
 * s3-errors.ts translates both alike.
 *
 * Everything else (https endpoints such as AWS itself, virtual-hosted addressing, an endpoint
 * with a path, a response this reader refuses) goes through the SDK: see docs/storage.md.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { createRequire } from "node:module";
import type { SignatureV4 as Signer } from "@smithy/signature-v4";
import { isThrottle } from "../job/aws-errors.js";
import { sleepOn, type RuntimeContext } from "../job/runtime-context.js";
import type { S3Timeouts } from "./s3-timeouts.js";
import { SocketHttpClient, UnsupportedResponseError, type GetProgress, type ResponseHead } from "./socket-http-get.js";
import { rangeHeader } from "./util.js";

// CommonJS, loaded with `require` (src/duckdb/index.ts says why): 28 CPU-ms against 54 for `import`.
const { SignatureV4 } = createRequire(import.meta.url)("@smithy/signature-v4") as typeof import("@smithy/signature-v4");

/** SHA-256 of an empty body: a GET's payload hash. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** SHA-256 and HMAC-SHA-256 for the signer, on Node's crypto. */
class Sha256 {
  readonly #secret: string | Uint8Array | undefined;
  #h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined || typeof secret === "string" ? secret : toBytes(secret);
    this.#h = this.#fresh();
  }
  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash("sha256") : createHmac("sha256", this.#secret);
  }
  reset(): void {
    this.#h = this.#fresh();
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#h.update(typeof data === "string" ? data : toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#h.digest();
  }
}
const toBytes = (d: ArrayBuffer | ArrayBufferView): Uint8Array => (ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));

/** S3's key encoding in a path (the SDK's extendedEncodeURIComponent), `/` kept. */
const encodeKey = (key: string): string =>
  key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");

/** What a successful GET's head said. */
export interface S3GetHead {
  /** Content-Length: the bytes of this response's body. */
  length: number;
  etag: string | undefined;
}

export interface S3SocketGetOptions {
  endpoint: URL;
  bucket: string;
  /** The store's S3Client's credential provider (its chain, memoized). */
  credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  region: () => Promise<string>;
  limits: S3Timeouts;
  context: RuntimeContext;
}

/**
 * The endpoint when this reader serves it: `http:`, path-style, no path, no user info; else
 * undefined. `SMELTER_S3_SOCKET_GET=0` turns it off (every GET through the SDK).
 */
export function socketGetEndpoint(endpoint: string | undefined, pathStyle: boolean, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (!endpoint || !pathStyle || env.SMELTER_S3_SOCKET_GET === "0") return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" || (url.pathname !== "/" && url.pathname !== "") || url.username || url.password || url.search) return undefined;
  return url;
}

const TRANSIENT_CODES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_ERRNO = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"]);
/** The SDK's `standard` backoff (@smithy/core's retries of 2026): base 50 ms, 1 s when throttled, at most 20 s. */
const BACKOFF_BASE_MS = 50;
const THROTTLED_BACKOFF_BASE_MS = 1000;
const MAX_BACKOFF_MS = 20_000;

function retryableBase(err: unknown): number | undefined {
  if (isThrottle(err)) return THROTTLED_BACKOFF_BASE_MS;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (TRANSIENT_CODES.has(e.name ?? "") || TRANSIENT_STATUS.has(e.$metadata?.httpStatusCode ?? 0) || TRANSIENT_ERRNO.has(e.code ?? "")) return BACKOFF_BASE_MS;
  return undefined;
}

const STATUS_NAMES: Record<number, string> = { 301: "PermanentRedirect", 400: "BadRequest", 403: "Forbidden", 404: "NotFound", 412: "PreconditionFailed", 416: "InvalidRange", 503: "ServiceUnavailable" };

/** An S3 error answer as the SDK shapes it: `name` and `Code` from the XML (else from the status), the status and the attempts in `$metadata`. */
function s3Error(head: ResponseHead, xml: string | undefined, attempts: number): Error {
  const tag = (name: string): string | undefined => {
    const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml ?? "");
    return m?.[1]?.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  };
  const code = tag("Code") ?? STATUS_NAMES[head.status] ?? "UnknownError";
  return Object.assign(new Error(tag("Message") ?? `HTTP ${head.status}`), {
    name: code,
    Code: code,
    $fault: head.status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: head.status, attempts, requestId: head.headers["x-amz-request-id"] },
  });
}

export class S3SocketGet {
  readonly #http: SocketHttpClient;
  readonly #signer: Signer;
  readonly #o: S3SocketGetOptions;

  constructor(o: S3SocketGetOptions) {
    this.#o = o;
    const port = Number(o.endpoint.port || 80);
    this.#http = new SocketHttpClient(o.endpoint.hostname.replace(/^\[|\]$/g, ""), port, o.endpoint.host, o.limits, o.context.clock);
    this.#signer = new SignatureV4({ service: "s3", region: o.region, credentials: o.credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  }

  /** Connections open now (tests). */
  get openConnections(): number {
    return this.#http.openConnections;
  }

  /**
   * One GetObject of `key` (the full key): retried until a response head as the SDK would; a 2xx
   * body goes into the buffer `into` returns (called with the head, before any body byte; it may
   * throw to refuse the response). Rejects with the SDK-shaped error of a non-2xx answer, or with
   * what broke; after a 2xx head, `progress.received` tells how many body bytes were written.
   */
  async get(key: string, o: { range?: { start: number; end?: number } | undefined; ifMatch?: string | undefined; signal: AbortSignal; progress: GetProgress; into: (head: S3GetHead) => Uint8Array }): Promise<S3GetHead> {
    const path = `/${encodeKey(this.#o.bucket)}/${encodeKey(key)}`;
    const extra: Record<string, string> = { "x-amz-content-sha256": EMPTY_SHA256 };
    if (o.range) extra.range = rangeHeader(o.range);
    if (o.ifMatch !== undefined) extra["if-match"] = o.ifMatch;
    let freeRetry = true;
    for (let attempt = 1; ; attempt++) {
      const progress = o.progress;
      progress.head = undefined;
      progress.received = 0;
      const answer: { got?: S3GetHead } = {};
      try {
        const headers = await this.#sign(path, extra);
        const res = await this.#http.get(path, headers, (head) => {
          if (head.status < 200 || head.status > 299) return { text: true };
          if (head.contentLength === undefined) throw new UnsupportedResponseError("a GetObject answer without Content-Length (chunked or close-delimited)");
          answer.got = { length: head.contentLength, etag: head.headers.etag };
          return { into: o.into(answer.got) };
        }, o.signal, progress);
        if (answer.got) return answer.got;
        throw s3Error(res.head, res.text, attempt);
      } catch (err) {
        if (answer.got || o.signal.aborted) throw err; // a body failure (resumed by the store) or an abort
        // A kept-alive connection the server had just closed: once, at once, on a new one.
        if (freeRetry && progress.reused && progress.head === undefined && /ECONNRESET|EPIPE/.test((err as { code?: string }).code ?? "")) {
          freeRetry = false;
          attempt--;
          continue;
        }
        const base = retryableBase(err);
        if (base === undefined || attempt >= this.#o.limits.maxAttempts) throw withAttempts(err, attempt);
        await sleepOn(this.#o.context.clock, Math.floor(this.#o.context.random() * Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1))), o.signal);
      }
    }
  }

  async #sign(path: string, extra: Record<string, string>): Promise<Record<string, string>> {
    const e = this.#o.endpoint;
    const signed = await this.#signer.sign({ method: "GET", protocol: "http:", hostname: e.hostname, port: Number(e.port || 80), path, query: {}, headers: { host: e.host, ...extra } });
    return signed.headers;
  }

  close(): void {
    this.#http.close();
  }
}

/** Adds `$metadata.attempts` to an error that has none (a timeout, a reset), as the SDK does. */
function withAttempts(err: unknown, attempts: number): unknown {
  if (typeof err !== "object" || err === null) return err;
  const e = err as { $metadata?: { attempts?: number } };
  e.$metadata = { ...e.$metadata, attempts };
  return err;
}
