/** Appends one benchmark run to bench/results/<name>.jsonl with the machine it ran on. */
import { appendFileSync, mkdirSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";

export function record(name: string, results: unknown): string {
  const dir = new URL("../../bench/results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${name}.jsonl`, dir);
  const line = {
    bench: name,
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    results,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
  return file.pathname;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
