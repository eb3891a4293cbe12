/**
 * Translates S3 SDK errors into store errors, at the edge. Looks only at the error's shape
 * (`name`, `Code`, `$metadata.httpStatusCode`, errno `code`), so it does not load the SDK.
 */
import { ConfigError } from "../job/errors.js";
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
}

const CREDENTIALS_HINT =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), or AWS_PROFILE, or pass credentials to s3Store; " +
  'for the embedded server use the values "smelter s3 serve" prints';

const ACCESS_CODES = new Set(["AccessDenied", "InvalidAccessKeyId", "XAdminUserNotFound", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "Forbidden", "AllAccessDisabled"]);
const THROTTLE_CODES = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "ServiceUnavailable", "RequestThrottled"]);

export function translateS3Error(err: unknown, ctx: S3ErrorContext): Error {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name === "AbortError") return err as Error;
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
  if (ACCESS_CODES.has(code) || status === 403)
    return new AccessDeniedError(`[smelter] [s3] ${what} was refused (${code}${status ? ` ${status}` : ""}): wrong or missing credentials, or no permission: ${CREDENTIALS_HINT}`, opts);
  if (code === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? ""))
    return new AccessDeniedError(`[smelter] [s3] no AWS credentials found for ${what}: ${CREDENTIALS_HINT}`, opts);
  if (/Region is missing/i.test(e.message ?? "")) return new ConfigError(`[smelter] [s3] no region for ${ctx.url}: set AWS_REGION (e.g. export AWS_REGION=us-east-1), or give a local server with --endpoint / AWS_ENDPOINT_URL_S3`, opts);
  if (THROTTLE_CODES.has(code) || status === 503 || status === 429)
    return new ThrottledError(`[smelter] [s3] ${what} was throttled (${code}${status ? ` ${status}` : ""}) after the SDK's retries: lower the concurrency or retry later`, opts);
  const errno = e.code;
  if (errno === "ECONNREFUSED" || errno === "ENOTFOUND" || errno === "EAI_AGAIN" || code === "TimeoutError")
    return new StoreError(`[smelter] [s3] cannot reach ${ctx.where} for ${what} (${errno ?? code}): is the endpoint right and the server running ("smelter s3 serve" starts one)?`, opts);
  const nonRetryable = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409;
  return new StoreError(`[smelter] [s3] ${what} failed: ${code}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? ""}`, { ...opts, nonRetryable });
}
