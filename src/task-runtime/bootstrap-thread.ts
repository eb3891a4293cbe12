/**
 * The script a `threads` pool worker starts with (new Worker(this file)). The backend gives the
 * thread its own environment with `SMELTER_TASK=pool` (so `runMain` in the entry module does
 * nothing) and the entry module in `workerData.entry`. This script imports the entry module,
 * which registers workers with `defineWorker`, then serves tasks over `parentPort` one at a time
 * (see `serveTasks` in runtime.ts for the protocol). Asked to shut down (the pool's `close()`), it
 * closes what it keeps warm, then closes its port, and the thread ends once its event loop is empty.
 *
 * What the thread writes to process.stdout / process.stderr (console.log included) is sent over
 * the same port as the task's other messages, so the manager sees it in order, before the outcome.
 */
import { parentPort, workerData } from "node:worker_threads";
import { serveTasks, type FromWorkerMessage, type ToWorkerMessage } from "./runtime.js";

const port = parentPort;
if (!port) throw new Error("[smelter] bootstrap-thread.js runs only inside a worker thread started by the threads backend");
process.env.SMELTER_TASK = "pool";
const entry = (workerData as { entry?: unknown } | undefined)?.entry;
const send = (message: FromWorkerMessage): void => port.postMessage(message);

for (const stream of ["stdout", "stderr"] as const) {
  const writable = process[stream];
  writable.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const cb = typeof encoding === "function" ? encoding : callback;
    const enc = typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8";
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(enc);
    send({ type: "stdio", stream, text });
    if (typeof cb === "function") queueMicrotask(() => (cb as () => void)());
    return true;
  }) as typeof writable.write;
}

void serveTasks(
  {
    send,
    onMessage: (handler) => port.on("message", (m: ToWorkerMessage) => handler(m)),
    exit: () => port.close(),
  },
  typeof entry === "string" ? entry : undefined,
  { endMarkers: false },
);
