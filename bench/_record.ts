/** Appends one benchmark run to bench/results/<name>.jsonl with the machine it ran on; writes its table into docs/performance.md. */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

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

/**
 * Writes `table` into docs/performance.md between the markers of benchmark `name`
 * (`<!-- bench:<name>:begin ... -->` / `<!-- bench:<name>:end -->`), or, without them, as a new
 * section `## <heading> (\`npm run bench <name>\`)` at the end. Returns the file's path.
 */
export function writeDocsSection(name: string, heading: string, table: string): string {
  const doc = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));
  const begin = `<!-- bench:${name}:begin (written by npm run bench ${name}) -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${begin}\nLatest run (${new Date().toISOString().slice(0, 10)}, Node ${process.version}):\n\n${table}\n${end}`;
  let text = readFileSync(doc, "utf8");
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + end.length);
  else text = `${text.trimEnd()}\n\n## ${heading} (\`npm run bench ${name}\`)\n\n${block}\n`;
  writeFileSync(doc, text);
  return doc;
}
