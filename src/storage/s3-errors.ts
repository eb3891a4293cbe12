/**
 * Translates S3 SDK errors into store errors, at the edge. Looks only at the error's shape
 * (`name`, `Code`, `$metadata.httpStatusCode`, errno `code`), so it does not load the SDK.
 */
import { credentialsProblem, isThrottle } from "../job/aws-errors.js";
import { ConfigError } from "../job/errors.js";
import { InputChangedError } from "./versions.js";
import { DEFAULT_S3_TIMEOUTS, formatMs, S3_TIMEOUT_ENV, type S3Timeouts } from "./s3-timeouts.js";
import {
  AccessDeniedError,
  BadDigestError,
  BucketNotFoundError,
  InvalidPartError,
  NoSuchUploadError,
  NotFoundError,
  StoreError,
  ThrottledError,
} from "./errors.js";

export interface S3ErrorContext {
  /** The S3 API call, e.g. `GetObject`. */
  op: string;
  key?: string;
  uploadId?: string;
  bucket: string;
  /** The endpoint, or `AWS region x`. */
  where: string;
  /** The store's URL. */
  url: string;
  /** The store's timeouts and attempts, to name in messages. */
  limits?: S3Timeouts;
}

/** A response body that ended before its Content-Length: retried by resuming the read. */
export class TruncatedBodyError extends Error {
  override name = "TruncatedBodyError";
  constructor(readonly received: number, readonly expected: number) {
    super(`the response body ended after ${received} of ${expected} bytes`);
  }
}

const TRANSIENT_ERRNO = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE", "UND_ERR_SOCKET"]);

/** A failure of a response body that another (resumed) request may not have: a stall, a reset, a cut. */
export function isTransientBodyError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (!e || e.name === "AbortError") return false;
  return e.name === "TimeoutError" || e.name === "TruncatedBodyError" || TRANSIENT_ERRNO.has(e.code ?? "") || /^aborted$|socket hang up|premature close/i.test(e.message ?? "");
}

/** Which of the timeouts a SDK TimeoutError is (by NodeHttpHandler's wording). */
function whichTimeout(message: string, limits: S3Timeouts): { what: string; env: string; ms: number } {
  if (/establish a connection/i.test(message)) return { what: `did not accept a connection within ${formatMs(limits.connectMs)}`, env: S3_TIMEOUT_ENV.connectMs, ms: limits.connectMs };
  if (/requestTimeout/i.test(message)) return { what: `sent no response within ${formatMs(limits.firstByteMs)}`, env: S3_TIMEOUT_ENV.firstByteMs, ms: limits.firstByteMs };
  return { what: `went silent for ${formatMs(limits.stallMs)} in the middle of a transfer`, env: S3_TIMEOUT_ENV.stallMs, ms: limits.stallMs };
}

const attemptsOf = (err: unknown): number | undefined => (err as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;

/** A call that ran past its deadline (`callMs`), retries included. */
export function callTimeout(ctx: S3ErrorContext, cause: unknown): StoreError {
  const limits = ctx.limits ?? DEFAULT_S3_TIMEOUTS;
  return new StoreError(
    `[smelter] [s3] ${ctx.op}${ctx.key !== undefined ? ` "${ctx.key}"` : ""} in ${ctx.url} at ${ctx.where} did not finish within ${formatMs(limits.callMs)}, retries included: ` +
      `the endpoint is too slow or stalls; check that it is up and not overloaded, or raise ${S3_TIMEOUT_ENV.callMs}`,
    { cause },
  );
}

const CREDENTIALS_HINT =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), or AWS_PROFILE, or pass credentials to s3Store; " +
  'for the embedded server use the values "smelter s3 serve" prints';


export function translateS3Error(err: unknown, ctx: S3ErrorContext): Error {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name === "AbortError" || err instanceof InputChangedError) return err as Error;
  const code = e.Code ?? e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode;
  const what = `${ctx.op}${ctx.key !== undefined ? ` "${ctx.key}"` : ""} in ${ctx.url} at ${ctx.where}`;
  const opts = { cause: err };

  if (code === "NoSuchBucket") return new BucketNotFoundError(ctx.bucket, ctx.where, opts);
  if (code === "NoSuchKey" || (status === 404 && (ctx.op === "GetObject" || ctx.op === "HeadObject") && code !== "NoSuchUpload"))
    return new NotFoundError(ctx.url, ctx.key ?? "", opts);
  if (code === "NoSuchUpload") return new NoSuchUploadError(ctx.url, ctx.key ?? "", ctx.uploadId ?? "?", opts);
  if (code === "BadDigest" || code === "InvalidDigest") return new BadDigestError(`[smelter] [s3] ${what}: the Content-MD5 does not match the bytes sent (${code})`, opts);
  if (code === "InvalidPart" || code === "InvalidPartOrder" || code === "EntityTooSmall")
    return new InvalidPartError(`[smelter] [s3] ${what}: ${code}: ${e.message ?? ""} (parts in ascending order, each as uploaded, all but the last at least 5 MiB)`, {
      ...opts,
      type: code,
    });
  const credentials = credentialsProblem(err);
  if (credentials === "refused")
    return new AccessDeniedError(`[smelter] [s3] ${what} was refused (${code}${status ? ` ${status}` : ""}): wrong or missing credentials, or no permission: ${CREDENTIALS_HINT}`, opts);
  if (credentials === "missing") return new AccessDeniedError(`[smelter] [s3] no AWS credentials found for ${what}: ${CREDENTIALS_HINT}`, opts);
  if (/Region is missing/i.test(e.message ?? "")) return new ConfigError(`[smelter] [s3] no region for ${ctx.url}: set AWS_REGION (e.g. export AWS_REGION=us-east-1), or give a local server with --endpoint / AWS_ENDPOINT_URL_S3`, opts);
  // S3 says SlowDown with a 503.
  if (isThrottle(err) || status === 503)
    return new ThrottledError(`[smelter] [s3] ${what} was throttled (${code}${status ? ` ${status}` : ""}) after the SDK's retries: lower the concurrency or retry later`, opts);
  const errno = e.code;
  const attempts = attemptsOf(err);
  const tries = attempts && attempts > 1 ? ` (${attempts} attempts)` : "";
  if (code === "TimeoutError" && (errno === undefined || errno === "ETIMEDOUT")) {
    const t = whichTimeout(e.message ?? "", ctx.limits ?? DEFAULT_S3_TIMEOUTS);
    return new StoreError(
      `[smelter] [s3] the S3 endpoint ${ctx.where} ${t.what} to ${ctx.op}${ctx.key !== undefined ? ` "${ctx.key}"` : ""} in ${ctx.url}${tries}: check that the endpoint is right and the server is up and not overloaded ` +
        `(AWS_ENDPOINT_URL_S3; "smelter s3 serve" starts a local one), or raise ${t.env} (now ${t.ms} ms) for a slow link`,
      opts,
    );
  }
  if (code === "TruncatedBodyError" || TRANSIENT_ERRNO.has(errno ?? ""))
    return new StoreError(`[smelter] [s3] the connection to ${ctx.where} broke during ${what}${tries} (${errno ?? code}: ${e.message ?? ""}): the network or the server is unreliable; it can be retried`, opts);
  if (code === "PreconditionFailed" || status === 412)
    return new StoreError(`[smelter] [s3] ${what}: the object changed while it was being read (its ETag no longer matches); read it again once it stops changing`, { ...opts, nonRetryable: true });
  if (errno === "ECONNREFUSED" || errno === "ENOTFOUND" || errno === "EAI_AGAIN")
    return new StoreError(`[smelter] [s3] cannot reach ${ctx.where} for ${what} (${errno ?? code}): is the endpoint right and the server running ("smelter s3 serve" starts one)?`, opts);
  const nonRetryable = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409;
  return new StoreError(`[smelter] [s3] ${what} failed: ${code}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? ""}`, { ...opts, nonRetryable });
}
