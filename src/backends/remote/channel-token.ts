/**
 * The live channel's per-job access token: from the operating system's secure random source
 * (crypto.randomBytes), never from a seeded runtime context, whose ids are reproducible by design.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** 32 hex digits of secure randomness. */
export function secureToken(): string {
  return randomBytes(16).toString("hex");
}

/** Compares a presented token with the expected one in constant time. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
