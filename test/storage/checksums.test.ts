/** The CRC32 a PutObject carries (storage/util.ts crc32Base64): S3's x-amz-checksum-crc32 form. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32Base64 } from "../../src/storage/util.js";

/** The textbook bitwise CRC-32 (IEEE, reflected, 0xEDB88320): what zlib's must agree with. */
function slowCrc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32Base64", () => {
  it("is the big-endian CRC-32 in base64, as S3 documents it", () => {
    assert.equal(crc32Base64(new TextEncoder().encode("hello")), "NhCmhg=="); // 0x3610a686
    assert.equal(crc32Base64(new Uint8Array(0)), "AAAAAA==");
  });

  it("agrees with the bitwise CRC-32 on random bytes of every length up to 300", () => {
    let seed = 5;
    for (let n = 0; n <= 300; n++) {
      const data = Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
      const want = Buffer.alloc(4);
      want.writeUInt32BE(slowCrc32(data));
      assert.equal(crc32Base64(data), want.toString("base64"), `length ${n}`);
    }
  });
});
