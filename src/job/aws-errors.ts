/**
 * How an AWS SDK v3 error is classified, for every AWS adapter (the S3 store, the Lambda and
 * Fargate backends): throttled, credentials refused or missing, not found, unreachable. Looks only
 * at the error's shape (`name`, `Code`, `$fault`, `$metadata.httpStatusCode`, errno `code`,
 * message), so it loads no SDK and sits in job/, where storage/ and backends/ both may import it.
 */
import { ConfigError, SmelterError } from "./errors.js";

/** What an SDK error says about itself. */
export interface AwsErrorFacts {
  /** The service's error code (`Code`), else the exception's name. */
  code: string;
  name: string;
  message: string;
  status?: number;
  /** `client` or `server`. */
  fault?: string;
  /** A Node errno (`ECONNREFUSED`) for errors below HTTP. */
  errno?: string;
}

export function awsErrorFacts(err: unknown): AwsErrorFacts {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as { name?: string; Code?: string; code?: unknown; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "";
  return {
    code: e.Code ?? (name || "Error"),
    name,
    message: e.message ?? "",
    ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
    ...(e.$fault !== undefined ? { fault: e.$fault } : {}),
    ...(typeof e.code === "string" ? { errno: e.code } : {}),
  };
}

const THROTTLE_CODES = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "ServiceUnavailable", "RequestThrottled"]);

/** The service refused the call for its rate: a throttling code, HTTP 429, or "Rate exceeded". */
export function isThrottle(err: unknown): boolean {
  const f = awsErrorFacts(err);
  return THROTTLE_CODES.has(f.code) || THROTTLE_CODES.has(f.name) || f.status === 429 || /rate exceeded/i.test(f.message);
}

const REFUSED_CODES = new Set([
  "AccessDenied", "AccessDeniedException", "Forbidden", "AllAccessDisabled", "UnrecognizedClientException", "InvalidAccessKeyId", "XAdminUserNotFound",
  "SignatureDoesNotMatch", "InvalidSignatureException", "ExpiredToken", "ExpiredTokenException", "InvalidToken", "TokenRefreshRequired",
]);

/** `missing`: the SDK found no credentials; `refused`: the service refused the ones sent (wrong, expired, or without permission). */
export function credentialsProblem(err: unknown): "missing" | "refused" | undefined {
  const f = awsErrorFacts(err);
  if (f.name === "CredentialsProviderError" || /Could not load credentials/i.test(f.message)) return "missing";
  if (REFUSED_CODES.has(f.code) || REFUSED_CODES.has(f.name) || f.status === 403) return "refused";
  return undefined;
}

const NOT_FOUND_CODES = new Set(["ResourceNotFoundException", "ClusterNotFoundException", "NoSuchBucket", "NoSuchKey", "NotFound"]);

/** The resource the call names does not exist: a Lambda function, an ECS cluster, an S3 bucket or key. */
export function isNotFound(err: unknown): boolean {
  const f = awsErrorFacts(err);
  return NOT_FOUND_CODES.has(f.code) || NOT_FOUND_CODES.has(f.name);
}

/** No HTTP answer at all: the endpoint is wrong or down, or the network does not reach it. */
export function isUnreachable(err: unknown): boolean {
  const f = awsErrorFacts(err);
  return f.status === undefined && (f.errno !== undefined || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket/i.test(f.message));
}

export interface AwsCallErrorOptions {
  /** The service and resource, e.g. `ECS cluster smelter at http://...`. */
  where: string;
  /** The API call, e.g. `RunTask`. */
  call: string;
  /** Added after `where` in the unreachable and other messages, e.g. ` for attempt j1-s01-t00000-a1`. */
  forWhat?: string;
  /** What to do when the resource does not exist (after its message). */
  notFound: string;
  /** What to do when the credentials are refused or missing. */
  credentials: string;
  /** Error types for an unreachable service and for other failures, e.g. `EcsUnreachable`, `EcsError`. */
  unreachableType: string;
  errorType: string;
}

/**
 * An AWS call that failed before any work ran, in Smelter's kinds: a missing resource and refused
 * credentials are configuration (not retried); an unreachable service and server faults are
 * retried; other client faults (but 429) are not.
 */
export function awsCallError(err: unknown, o: AwsCallErrorOptions): SmelterError {
  const f = awsErrorFacts(err);
  const forWhat = o.forWhat ?? "";
  if (isNotFound(err)) return new ConfigError(`${o.where} does not exist (${f.message}): ${o.notFound}`, { cause: err });
  if (credentialsProblem(err)) return new ConfigError(`${o.where} refused the credentials (${f.name}: ${f.message}): ${o.credentials}`, { cause: err });
  if (isUnreachable(err)) return new SmelterError(`could not reach ${o.where}${forWhat} (${f.errno ?? f.name}: ${f.message}): check the endpoint and region, and that the network allows it`, { cause: err, type: o.unreachableType });
  const nonRetryable = f.fault === "client" && f.status !== 429;
  return new SmelterError(`${o.call} of ${o.where}${forWhat} failed (${f.name}: ${f.message})`, { cause: err, type: f.name || o.errorType, nonRetryable });
}
