/**
 * The bad-input corpus's runner: each case spawns the real CLI (`node bin/smelter.js ...`) with a
 * timeout and checks what a user sees: the exit code, stderr starting with `[smelter]` and saying
 * what it must (the input named, what to do), no stack trace, no hang. Cases are data
 * (cases.ts); the fixtures and servers they point at are built once (fixtures.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CLI_CASES } from "./cases.js";
import { buildFixtures } from "./fixtures.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

/** Where the cases' files and servers are. */
export interface CorpusContext {
  /** A temp directory holding the fixture files (see fixtures.ts). */
  dir: string;
  /** The embedded S3 server's endpoint (bucket `bad`) and its environment. */
  s3: string;
  s3Env: Record<string, string>;
  /** An endpoint that accepts connections and never answers. */
  silent: string;
  /** An endpoint where nothing listens (connection refused). */
  closed: string;
  /** A directory on a full file system (a filled tmpfs), when this machine lets the test mount one. */
  full?: string;
}

export interface BadInputCase {
  /** The category counted in docs/reliability.md ("csv", "parquet", "sql", "flags", ...). */
  category: string;
  name: string;
  args: (c: CorpusContext) => string[];
  env?: (c: CorpusContext) => Record<string, string>;
  /** @default 1 */
  exit?: number;
  /** Each must match stderr: the input named, the advice given. */
  stderr: RegExp[];
  /** Must not match stderr (options Smelter does not have, raw errno names...). */
  notStderr?: RegExp[];
  stdout?: RegExp;
  /** The case needs the full disk (CorpusContext.full): skipped where none could be mounted. */
  needsFullDisk?: boolean;
  /** Checks after the run (nothing written, counts...). */
  after?: (c: CorpusContext, r: RunResult) => void;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Text DuckDB prints that names options Smelter does not have. */
export const DUCKDB_ONLY_OPTIONS = /ignore_errors|strict_mode|store_rejects|sample_size|null_padding|Possible (solutions|fixes)|types=\{|nullstr|max_line_size =/;

export const CASE_TIMEOUT_MS = 60_000;

export function runCli(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { encoding: "utf8", timeout: CASE_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 16 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: string | null }) | null;
        resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** Runs one case and asserts the corpus's common rules plus its own. */
export async function checkCase(c: BadInputCase, ctx: CorpusContext): Promise<void> {
  const args = c.args(ctx);
  const r = await runCli(args, c.env?.(ctx));
  if (process.env.SMELTER_BAD_INPUT_SHOW) appendFileSync(process.env.SMELTER_BAD_INPUT_SHOW, `=== ${c.category}/${c.name} [exit ${r.code} ${r.signal ?? ""}]\n${r.stderr}\n`);
  const shown = `smelter ${args.join(" ")}\nexit ${r.code} ${r.signal ?? ""}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 500)}`;
  assert.equal(r.signal, null, `no hang (killed after ${CASE_TIMEOUT_MS} ms):\n${shown}`);
  assert.equal(r.code, c.exit ?? 1, `exit code:\n${shown}`);
  if (r.stderr !== "" || r.code !== 0) assert.ok(r.stderr.startsWith("[smelter]"), `stderr starts with [smelter]:\n${shown}`);
  assert.doesNotMatch(r.stderr, /^ {4}at /m, `no stack trace:\n${shown}`);
  assert.doesNotMatch(r.stderr, DUCKDB_ONLY_OPTIONS, `no DuckDB option Smelter does not have:\n${shown}`);
  for (const re of c.stderr) assert.match(r.stderr, re, shown);
  for (const re of c.notStderr ?? []) assert.doesNotMatch(r.stderr, re, shown);
  if (c.stdout) assert.match(r.stdout, c.stdout, shown);
  c.after?.(ctx, r);
}

/** Declares one test file's share of the CLI corpus: the cases of `categories`, three at a time, behind one set of fixtures (servers, files). */
export function describeCliCases(title: string, categories: readonly string[]): void {
  describe(title, { concurrency: 3 }, () => {
    let ctx: CorpusContext;
    let stop: (() => Promise<void>) | undefined;
    before(async () => {
      const f = await buildFixtures();
      ctx = f.ctx;
      stop = f.stop;
    });
    after(async () => {
      await stop?.();
    });
    for (const c of CLI_CASES.filter((c) => categories.includes(c.category)))
      test(`${c.category}: ${c.name}`, (t) => {
        if (c.needsFullDisk && !ctx.full) return t.skip("no full disk: mounting a small tmpfs needs root");
        return checkCase(c, ctx);
      });
  });
}
