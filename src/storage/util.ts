/** Small helpers shared by the stores: digests, ETags, key order, part-list checks. */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { InvalidPartError } from "./errors.js";
import type { UploadedPart } from "./contract.js";

/** S3's smallest part size (all parts but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part number. */
export const MAX_PARTS = 10_000;

/** Base64 MD5, the form of a `Content-MD5` header. */
export function md5Base64(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

/** CRC32 of `data` as S3's `x-amz-checksum-crc32` carries it: the 4 bytes, big-endian, base64. zlib's, native: ~0.1 of MD5's CPU. */
export function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString("base64");
}

export function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** An ETag without its quotes (S3 returns `"abc"`). */
export function stripEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** S3's ETag of a multipart object: MD5 of the parts' binary MD5s, a dash, the part count. */
export function multipartEtag(partEtags: string[]): string {
  const h = createHash("md5");
  for (const e of partEtags) h.update(Buffer.from(stripEtag(e), "hex"));
  return `"${h.digest("hex")}-${partEtags.length}"`;
}

/** S3 order: keys compared as UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A `Range` header value for a byte range (`end` exclusive). */
export function rangeHeader(range: { start: number; end?: number }): string {
  return range.end === undefined ? `bytes=${range.start}-` : `bytes=${range.start}-${range.end - 1}`;
}

/** Clamps a range to an object of `size` bytes; `[start, end)` with end >= start. */
export function sliceRange(size: number, range: { start: number; end?: number } | undefined): [number, number] {
  if (!range) return [0, size];
  const start = Math.min(Math.max(0, range.start), size);
  const end = Math.min(size, range.end ?? size);
  return [start, Math.max(start, end)];
}

/** Validates a byte range given to `get`; throws RangeError on nonsense. */
export function checkRange(range: { start: number; end?: number } | undefined): void {
  if (!range) return;
  const ok = Number.isSafeInteger(range.start) && range.start >= 0 && (range.end === undefined || (Number.isSafeInteger(range.end) && range.end >= range.start));
  if (!ok) throw new RangeError(`[smelter] invalid byte range ${JSON.stringify(range)}: start >= 0, end >= start (end exclusive)`);
}

/**
 * Checks a part list given to `complete` against the parts stored, as S3 does: ascending part
 * numbers, every part present with its ETag, every part but the last at least `minPartSize`.
 */
export function checkPartList(
  where: string,
  given: UploadedPart[],
  stored: Map<number, { etag: string; size: number }>,
  minPartSize: number,
): void {
  if (given.length === 0) throw new InvalidPartError(`[smelter] ${where}: complete needs at least one part`);
  let prev = 0;
  given.forEach((p, i) => {
    if (p.partNumber <= prev) throw new InvalidPartError(`[smelter] ${where}: parts must be listed in ascending order (part ${p.partNumber} after ${prev})`, { type: "InvalidPartOrder" });
    prev = p.partNumber;
    const s = stored.get(p.partNumber);
    if (!s || stripEtag(s.etag) !== stripEtag(p.etag)) throw new InvalidPartError(`[smelter] ${where}: part ${p.partNumber} was not uploaded or its ETag ${p.etag} does not match`);
    if (i < given.length - 1 && s.size < minPartSize)
      throw new InvalidPartError(`[smelter] ${where}: part ${p.partNumber} is ${s.size} bytes; every part but the last must be at least ${minPartSize} bytes`, { type: "EntityTooSmall" });
  });
}

export function checkPartNumber(where: string, partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
    throw new InvalidPartError(`[smelter] ${where}: part number ${partNumber} is outside 1..${MAX_PARTS}`);
}

/** Joins chunks into one buffer. */
export function concatBytes(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}
