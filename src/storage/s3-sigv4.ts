/**
 * Checks an S3 request's AWS Signature Version 4 (Authorization header), for the embedded server:
 * s3rver 3.7.1 checks V2 signatures only and lets any V4 request through. Node's crypto only.
 *
 * The canonical request is rebuilt from what arrived (method, the path as sent: S3 does not
 * encode it twice, the query re-encoded and sorted, the signed headers, the payload hash the
 * client declared in `x-amz-content-sha256`), then signed with the secret of the access key the
 * request names. The body is not hashed again: the check is about who signed, not transfer
 * integrity (Content-MD5 does that where it matters).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { systemContext } from "../job/runtime-context.js";

export interface SignedRequest {
  method: string;
  /** The raw request target: path and query, as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export type SignatureCheck = { ok: true; accessKeyId: string } | { ok: false; code: "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "RequestTimeTooSkewed" | "AuthorizationHeaderMalformed"; message: string };

/** How far a request's x-amz-date may be from now, as S3 allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTH = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})\s*$/i;

/** RFC 3986 encoding, as SigV4 wants (encodeURIComponent leaves !'()* alone). */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalQuery(query: string): string {
  if (!query) return "";
  return query
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? "" : p.slice(eq + 1);
      return [rfc3986(decode(k)), rfc3986(decode(v))] as const;
    })
    .filter(([k]) => k !== "X-Amz-Signature")
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function headerValue(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(",") : (v ?? "");
  return s.trim().replace(/\s+/g, " ");
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** Verifies `req`'s signature with the secret of its access key (`secretFor` returns undefined for an unknown key). */
export function checkSigV4(req: SignedRequest, secretFor: (accessKeyId: string) => string | undefined, now = systemContext().clock.now()): SignatureCheck {
  const auth = headerValue(req.headers.authorization);
  if (!auth) {
    const presigned = /[?&]X-Amz-Algorithm=/i.test(req.url) || /[?&]Signature=/.test(req.url);
    return {
      ok: false,
      code: "AccessDenied",
      message: presigned ? "Presigned URLs are not supported by the embedded server: sign requests with an Authorization header." : "Anonymous requests are refused: sign requests with the server's access key.",
    };
  }
  const m = AUTH.exec(auth);
  if (!m) return { ok: false, code: "AuthorizationHeaderMalformed", message: "Only AWS Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header is accepted." };
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = m as unknown as [string, string, string, string, string, string, string];
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return { ok: false, code: "InvalidAccessKeyId", message: `The access key ${accessKeyId} is not this server's.` };
  const amzDate = headerValue(req.headers["x-amz-date"]);
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!at || !amzDate.startsWith(day)) return { ok: false, code: "AuthorizationHeaderMalformed", message: "x-amz-date is missing or does not match the credential's date." };
  const time = Date.UTC(Number(at[1]), Number(at[2]) - 1, Number(at[3]), Number(at[4]), Number(at[5]), Number(at[6]));
  if (Math.abs(now - time) > MAX_SKEW_MS) return { ok: false, code: "RequestTimeTooSkewed", message: "The request time differs from the server's time by more than 15 minutes." };
  const signedHeaders = signedHeaderList.toLowerCase().split(";");
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const canonicalRequest = [
    req.method.toUpperCase(),
    path || "/",
    canonicalQuery(q < 0 ? "" : req.url.slice(q + 1)),
    signedHeaders.map((h) => `${h}:${headerValue(req.headers[h])}\n`).join(""),
    signedHeaders.join(";"),
    headerValue(req.headers["x-amz-content-sha256"]) || "UNSIGNED-PAYLOAD",
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest, "utf8").digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  const given = Buffer.from(signature.toLowerCase(), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, code: "SignatureDoesNotMatch", message: "The request signature does not match: the secret key is wrong for this access key." };
  return { ok: true, accessKeyId };
}
