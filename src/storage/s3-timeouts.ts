/**
 * How long an S3 call may wait, and how often it is tried. Every call of the S3 store is bounded:
 * a TCP connect, the time to the response headers (first byte), any silence on the socket while
 * a body flows (stall), and the whole call with its retries. Options given in code win over the
 * environment (`SMELTER_S3_*`), which wins over the defaults; the environment reaches workers too.
 */
import { z } from "zod";
import { ConfigError } from "../job/errors.js";

export interface S3Timeouts {
  /** A TCP (and TLS) connection must be open within this, ms. @default 5000 (SMELTER_S3_CONNECT_TIMEOUT_MS) */
  connectMs: number;
  /** The response headers must arrive within this after the request started (uploads included), ms. @default 30000 (SMELTER_S3_FIRST_BYTE_TIMEOUT_MS) */
  firstByteMs: number;
  /** No byte sent or received for this long, while a request or a response body flows, fails the request, ms. @default 30000 (SMELTER_S3_STALL_TIMEOUT_MS) */
  stallMs: number;
  /** One store call, all its attempts and backoff included, until its response (a buffered read: until its last byte), ms. @default 300000 (SMELTER_S3_CALL_TIMEOUT_MS) */
  callMs: number;
  /** Attempts per call, the first included. @default 5 (SMELTER_S3_MAX_ATTEMPTS) */
  maxAttempts: number;
}

export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectMs: 5_000, firstByteMs: 30_000, stallMs: 30_000, callMs: 300_000, maxAttempts: 5 };

/** The environment variable of each setting. */
export const S3_TIMEOUT_ENV: Record<keyof S3Timeouts, string> = {
  connectMs: "SMELTER_S3_CONNECT_TIMEOUT_MS",
  firstByteMs: "SMELTER_S3_FIRST_BYTE_TIMEOUT_MS",
  stallMs: "SMELTER_S3_STALL_TIMEOUT_MS",
  callMs: "SMELTER_S3_CALL_TIMEOUT_MS",
  maxAttempts: "SMELTER_S3_MAX_ATTEMPTS",
};

const ms = z.coerce.number().int().min(1).max(24 * 3600 * 1000);
const attempts = z.coerce.number().int().min(1).max(20);

/** The settings: `given` first, then the environment, then the defaults. A bad value is a ConfigError naming its variable. */
export function resolveS3Timeouts(given: Partial<S3Timeouts> = {}, env: NodeJS.ProcessEnv = process.env): S3Timeouts {
  const out = { ...DEFAULT_S3_TIMEOUTS };
  for (const k of Object.keys(DEFAULT_S3_TIMEOUTS) as (keyof S3Timeouts)[]) {
    const value = given[k];
    if (value !== undefined) {
      const r = (k === "maxAttempts" ? attempts : ms).safeParse(value);
      if (!r.success) throw new ConfigError(`[smelter] [s3] the S3 option ${k} must be a whole number from 1 to ${k === "maxAttempts" ? 20 : "86400000 (ms)"}, got ${String(value)}`);
      out[k] = r.data;
      continue;
    }
    const raw = env[S3_TIMEOUT_ENV[k]];
    if (raw === undefined || raw === "") continue;
    const r = (k === "maxAttempts" ? attempts : ms).safeParse(raw);
    if (!r.success) throw new ConfigError(`[smelter] [s3] ${S3_TIMEOUT_ENV[k]}="${raw}" is not valid: give a whole number from 1 to ${k === "maxAttempts" ? 20 : "86400000 (milliseconds)"}`);
    out[k] = r.data;
  }
  return out;
}

/** "5 s" / "250 ms". */
export function formatMs(value: number): string {
  return value >= 1000 && value % 100 === 0 ? `${value / 1000} s` : `${value} ms`;
}
