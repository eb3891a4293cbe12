/**
 * Worker thread of the generator pool (chunks.ts). Runs one task at a time:
 * - `write`: generates a row range and writes it itself into a file: a local store's temp file
 *   (the store renames it into place: `localFileWriter`) or Parquet's temp CSV;
 * - `stream`: generates the listed row ranges in order and sends their chunks to the main thread as
 *   transferred buffers (no copy), waiting for credit so unconsumed data stays bounded.
 * Progress (rows) is reported per chunk.
 */
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parentPort } from "node:worker_threads";
import { COPY_SLACK } from "./bytes.js";
import type { FromWorker, ToWorker, WriteTask, StreamTask } from "./chunks.js";
import { allocChunk, type RowSource } from "./row-source.js";
import { blockCount, blockRange, openSource } from "./source.js";

const port = parentPort;
let credits = 0;
let current = -1;
let resume: (() => void) | undefined;
let scratch: Uint8Array = new Uint8Array(0);

function post(m: FromWorker, transfer?: ArrayBuffer[]): void {
  port?.postMessage(m, transfer);
}

/**
 * Generates up to `chunkRows` rows into a reused scratch buffer and returns them copied into an
 * exact-size buffer of their own (cheaper overall than a fresh buffer sized for the longest rows:
 * half the memory to map, fault in and free).
 */
function nextChunk(source: RowSource, chunkRows: number): { chunk: Uint8Array; rows: number } {
  if (scratch.byteLength < chunkRows * source.maxRowBytes + COPY_SLACK) scratch = allocChunk(source, chunkRows);
  const { rows, bytes } = source.fill(scratch, chunkRows);
  const chunk = new Uint8Array(bytes);
  chunk.set(scratch.subarray(0, bytes));
  return { chunk, rows };
}

async function* chunks(task: WriteTask): AsyncGenerator<Uint8Array> {
  const source = openSource(task.spec);
  while (source.rowsLeft > 0) {
    const { chunk, rows } = nextChunk(source, task.chunkRows);
    yield chunk;
    post({ type: "progress", task: task.id, rows, bytes: chunk.byteLength });
  }
}

async function write(task: WriteTask): Promise<void> {
  await pipeline(Readable.from(chunks(task)), createWriteStream(task.path));
  post({ type: "done", task: task.id });
}

async function stream(task: StreamTask): Promise<void> {
  const blocks = blockCount(task.spec);
  for (let u = task.lane; u < blocks; u += task.lanes) {
    const [startRow, rows] = blockRange(task.spec, u);
    const source = openSource({ ...task.spec, startRow, rows });
    while (source.rowsLeft > 0) {
      while (credits <= 0) await new Promise<void>((r) => (resume = r));
      credits--;
      const { chunk, rows: n } = nextChunk(source, task.chunkRows);
      const buffer = chunk.buffer as ArrayBuffer;
      post({ type: "chunk", task: task.id, range: u, last: source.rowsLeft === 0, buffer, offset: 0, bytes: chunk.byteLength, rows: n }, [buffer]);
    }
  }
  post({ type: "done", task: task.id });
}

port?.on("message", (m: ToWorker) => {
  if (m.type === "credit") {
    if (m.task !== current) return;
    credits += m.n;
    resume?.();
    resume = undefined;
    return;
  }
  current = m.id;
  credits = m.type === "stream" ? m.credit : 0;
  (m.type === "write" ? write(m) : stream(m)).catch((err: unknown) => {
    post({ type: "error", task: m.id, message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
  });
});
