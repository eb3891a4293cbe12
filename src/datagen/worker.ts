/** Worker thread entry of generateChunksInWorker: generates one row range and sends its chunks. */
import { parentPort, workerData } from "node:worker_threads";
import { generateChunks } from "./chunks.js";
import type { ChunkSpec } from "./chunks.js";

const { spec, credit } = workerData as { spec: ChunkSpec; credit: number };
const port = parentPort;
if (port) {
  let credits = credit;
  let resume: (() => void) | undefined;
  port.on("message", () => {
    credits++;
    resume?.();
    resume = undefined;
  });
  for (const chunk of generateChunks(spec)) {
    while (credits <= 0) await new Promise<void>((r) => (resume = r));
    credits--;
    const copy = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    port.postMessage({ chunk: copy }, [copy.buffer as ArrayBuffer]);
  }
  port.postMessage({ done: true });
  port.close();
}
