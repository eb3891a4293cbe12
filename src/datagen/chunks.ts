/**
 * One file's rows as a stream of CSV byte chunks, generated inline or in a worker thread (so that
 * several files use several cores). A worker sends chunks as transferred buffers and waits for
 * credit, so a slow store never lets generated data pile up in memory.
 */
import { Worker } from "node:worker_threads";
import { generateRankings } from "./rankings.js";
import { generateUservisits } from "./uservisits.js";

export const tables = ["uservisits", "rankings"] as const;
export type Table = (typeof tables)[number];

/** What to generate: one contiguous row range of a table. */
export interface ChunkSpec {
  table: Table;
  seed: number;
  /** uservisits only: pages in the URL space. */
  pages: number;
  startRow: number;
  rows: number;
  chunkRows: number;
}

/** Chunks generated in this thread. */
export function generateChunks(spec: ChunkSpec): Iterable<Uint8Array> {
  return spec.table === "uservisits"
    ? generateUservisits({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow, pages: spec.pages, chunkRows: spec.chunkRows })
    : generateRankings({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow, chunkRows: spec.chunkRows });
}

const CREDIT = 4;

/** Chunks generated in a worker thread; ending the iteration early stops the worker. */
export async function* generateChunksInWorker(spec: ChunkSpec): AsyncIterable<Uint8Array> {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: { spec, credit: CREDIT } });
  const queue: Uint8Array[] = [];
  let done = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  worker.on("message", (m: { chunk?: Uint8Array; done?: boolean }) => {
    if (m.chunk) queue.push(m.chunk);
    if (m.done) done = true;
    notify();
  });
  worker.on("error", (err) => {
    failure = { err };
    notify();
  });
  worker.on("exit", (code) => {
    if (!done && !failure) failure = { err: new Error(`datagen worker exited with code ${code} before finishing`) };
    notify();
  });
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk) {
        worker.postMessage("more");
        yield chunk;
        continue;
      }
      if (failure) throw failure.err;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    await worker.terminate();
  }
}
