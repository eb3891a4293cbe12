/** Workers used by the benchmarks (the entry module of thread and process pools). */
import { defineWorker } from "../src/task-runtime/registry.js";

export const noop = defineWorker("bench.noop", () => null);
