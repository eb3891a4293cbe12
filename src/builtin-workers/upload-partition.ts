/**
 * The built-in worker `smelter.upload-partition`: uploads one partition of a parallel upload
 * (docs/parallel-upload.md) from a simple source, streamed in chunks:
 * - `generate`: `bytes` deterministic pseudo-random bytes from `seed` (tests, benchmarks);
 * - `copy`: an object (or a byte range of it) from the same store, or from `storeUrl`;
 * - `inline`: a few bytes carried in the input as base64.
 * Input: `{ storeUrl, handle, partition, source }`; output: the partition's result.
 */
import { z } from "zod";
import { uploadPartitionTask, partitionTaskInputSchema, type PartitionTaskInput } from "../outputs/upload-partition.js";
import { cachedStore } from "../storage/cache.js";
import type { PartitionResult } from "../outputs/upload-protocol.js";
import { defineWorker } from "../task-runtime/registry.js";

export const UPLOAD_PARTITION_WORKER = "smelter.upload-partition";

export const partitionSourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("generate"), bytes: z.number().int().nonnegative(), seed: z.number().int(), chunkSize: z.number().int().min(4).multipleOf(4).default(1 << 20) }),
  z.strictObject({
    kind: z.literal("copy"),
    key: z.string().min(1),
    storeUrl: z.string().min(1).optional(),
    range: z.strictObject({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative().optional() }).optional(),
  }),
  z.strictObject({ kind: z.literal("inline"), base64: z.string().max(512 * 1024) }),
]);
export type PartitionSource = z.input<typeof partitionSourceSchema>;

/** The worker's input: a parallel-upload partition task whose source is one of the above. */
export const uploadPartitionInput = partitionTaskInputSchema.extend({ source: partitionSourceSchema });

export const uploadPartitionWorker = defineWorker(UPLOAD_PARTITION_WORKER, async (input: z.output<typeof uploadPartitionInput>, ctx): Promise<PartitionResult> => {
  const source = input.source;
  const task = input as PartitionTaskInput;
  switch (source.kind) {
    case "generate":
      return uploadPartitionTask(task, generateBytes(source.seed, source.bytes, source.chunkSize), ctx);
    case "inline":
      return uploadPartitionTask(task, Buffer.from(source.base64, "base64"), ctx);
    case "copy": {
      const from = await cachedStore(source.storeUrl ?? input.storeUrl);
      const counted = async function* (): AsyncIterable<Uint8Array> {
        for await (const chunk of from.getStream(source.key, { range: source.range, signal: ctx.signal })) {
          ctx.count("bytesRead", chunk.byteLength);
          yield chunk;
        }
      };
      ctx.count("readRequests", 1);
      return await uploadPartitionTask(task, counted(), ctx);
    }
  }
}, { input: uploadPartitionInput });

/**
 * `bytes` pseudo-random bytes from `seed` (xorshift128), in chunks of `chunkSize`. The bytes
 * depend only on the seed and the length, never on the chunk size.
 */
export async function* generateBytes(seed: number, bytes: number, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  let x = mix(seed ^ 0x9e3779b9) | 1;
  let y = mix(x + 1);
  let z = mix(y + 2);
  let w = mix(z + 3);
  for (let done = 0; done < bytes; ) {
    const n = Math.min(chunkSize, bytes - done);
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    yield new Uint8Array(words.buffer, 0, n);
    done += n;
  }
}

function mix(v: number): number {
  v = Math.imul(v ^ (v >>> 16), 0x85ebca6b);
  v = Math.imul(v ^ (v >>> 13), 0xc2b2ae35);
  return (v ^ (v >>> 16)) >>> 0;
}
