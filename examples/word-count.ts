/**
 * Word count with Smelter's map-reduce over your own functions. Run it:
 *
 *   npm run build && node dist/examples/word-count.js [INPUT] [--workers N] [--partitions R]
 *
 * INPUT is a prefix or glob of text files in any store (`s3://bucket/books/*.txt`, a local
 * directory). Without one it writes a small sample into a temp directory first. In your own
 * project, import from "smelter" and "smelter/mapreduce" instead of ../src/.
 *
 * This file is both the manager and the workers: the threads backend loads it as its `entry`,
 * which registers the map and reduce functions in every worker; `runMain` runs `main` only in
 * the manager.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { threadsBackend } from "../src/backends/index.js";
import { defineMapReduce } from "../src/mapreduce/index.js";
import { Manager } from "../src/scheduler/manager.js";
import { runMain } from "../src/task-runtime/main.js";

export const wordCount = defineMapReduce<string, string, number, { word: string; count: number }>({
  name: "example.wordCount",
  records: "lines",
  map: (line, emit) => {
    for (const word of line.toLowerCase().split(/[^\p{L}']+/u)) if (word) emit(word, 1);
  },
  combine: (_word, counts) => counts.reduce((a, b) => a + b, 0),
  reduce: (word, counts) => ({ word, count: counts.reduce((a, b) => a + b, 0) }),
});

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { workers: { type: "string", default: "2" }, partitions: { type: "string" } } });
  const own = positionals[0] === undefined ? await sample() : undefined;
  const input = positionals[0] ?? own!;
  const manager = new Manager({ backend: threadsBackend({ entry: import.meta.url, workers: Number(values.workers) }) });
  try {
    const started = Date.now();
    const r = await wordCount.run(manager, { input, ...(values.partitions ? { partitions: Number(values.partitions) } : {}) });
    const top = r.records!.sort((a, b) => b.count - a.count || a.word.localeCompare(b.word)).slice(0, 10);
    console.log(`${r.records!.length} distinct words in ${r.counters.records} lines (map tasks: ${r.mapTasks}, reducers: ${r.partitions}, ${Date.now() - started} ms)`);
    for (const { word, count } of top) console.log(`${String(count).padStart(8)}  ${word}`);
  } finally {
    await manager.close();
    if (own) await rm(own, { recursive: true, force: true });
  }
}

async function sample(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-words-"));
  const verse = "the quick brown fox jumps over the lazy dog and the dog sleeps";
  for (let f = 0; f < 4; f++) await writeFile(join(dir, `book-${f}.txt`), Array.from({ length: 20_000 }, (_, i) => verse.split(" ").slice(i % 5).join(" ")).join("\n"));
  console.log(`sample input (removed afterwards): ${dir}/`);
  return `${dir}/`;
}

await runMain(main);
