/**
 * What the cancellation and chaos tests share: the real CLI spawned in its own process group
 * (`node bin/smelter.js ...`) with a private TMPDIR and state dir, its --events file watched for a
 * stage, and the leftover checks: worker processes of the group, objects under the work prefix and
 * staging prefixes, open multipart uploads (ListMultipartUploads on the complete server), files in
 * the private temp dir, records of leftovers.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ObjectStore } from "../../src/storage/contract.js";
import { s3Store } from "../../src/storage/s3.js";
import type { CompleteS3Server } from "../helpers/s3-complete.js";

export const BIN = new URL("../../../bin/smelter.js", import.meta.url).pathname;

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the CLI exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stderr: () => string;
  stdout: () => string;
  dirs: { tmp: string; state: string };
}

/** Spawns the CLI in a new process group (its workers join it) with a private TMPDIR and SMELTER_STATE_DIR. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, dirs = privateDirs()): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, TMPDIR: dirs.tmp, SMELTER_STATE_DIR: dirs.state }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })));
  return { child, exited, stderr: () => err, stdout: () => out, dirs };
}

export function privateDirs(): { tmp: string; state: string } {
  const base = mkdtempSync(join(tmpdir(), "smelter-chaos-"));
  const tmp = join(base, "tmp");
  const state = join(base, "state");
  execFileSync("mkdir", ["-p", tmp, state]);
  return { tmp, state };
}

interface EventLine {
  type: string;
  stage?: number;
  jobId?: string;
}

/** The events written so far (the header skipped; a half-written last line ignored). */
export function readEvents(file: string): EventLine[] {
  if (!existsSync(file)) return [];
  const out: EventLine[] = [];
  for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
    try {
      out.push(JSON.parse(line) as EventLine);
    } catch {
      // the line being written
    }
  }
  return out;
}

/** Resolves once an event matching `match` is in the file; rejects when the CLI exits first or after `timeoutMs`. */
export async function waitForEvent(run: CliRun, file: string, match: (e: EventLine) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let done = false;
  void run.exited.then(() => (done = true));
  for (;;) {
    if (readEvents(file).some(match)) return;
    if (done) throw new Error(`the CLI exited before the event was written: ${run.stderr()}`);
    if (performance.now() > deadline) throw new Error(`no such event within ${timeoutMs} ms: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Processes of the group `pgid` still alive (zombies, already dead, are not counted). */
export function liveProcesses(pgid: number): string[] {
  const ps = execFileSync("ps", ["-e", "-o", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  return ps
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === pgid && !f[2]?.startsWith("Z"))
    .map((f) => f.join(" "));
}

/** Polls until only the CLI itself is left in its group (every worker stopped); resolves with the time, ms from now. */
export async function workersGone(run: CliRun, timeoutMs = 10_000): Promise<number> {
  const t = performance.now();
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (performance.now() - t < timeoutMs) {
    if (exited || liveProcesses(run.child.pid!).filter((p) => !p.startsWith(`${run.child.pid} `)).length === 0) return performance.now() - t;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

/** Files (not empty directories) under `dir`, and directories named after a job (`smelter-jobs/<id>`). */
export function tempLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() || (e.isDirectory() && /smelter-jobs$/.test(e.parentPath)))
    .map((e) => join(e.parentPath, e.name));
}

/** Generates each table with `smelter datagen` into `local/<dir>` and puts its files into `store` under `<dir>/`; returns the keys put. */
export async function generateTables(local: string, store: ObjectStore, tables: { table: "uservisits" | "rankings"; dir: string; rows: number; files: number }[]): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const t of tables) {
    execFileSync(process.execPath, [BIN, "datagen", t.table, "--rows", String(t.rows), "--files", String(t.files), "--out", join(local, t.dir)], { stdio: "ignore" });
    for (const f of readdirSync(join(local, t.dir))) {
      await store.put(`${t.dir}/${f}`, readFileSync(join(local, t.dir, f)));
      keys.add(`${t.dir}/${f}`);
    }
  }
  return keys;
}

export function bucketStore(server: CompleteS3Server, bucket: string): ObjectStore {
  return s3Store({ bucket, endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
}

/** Work-prefix objects, staging objects and open multipart uploads in `stores`; `keep` are keys that may stay (inputs, a complete output). */
export async function storeLeftovers(stores: ObjectStore[], keep: (key: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const store of stores) {
    for await (const o of store.list("")) if (!keep(o.key)) out.push(`${store.url}/${o.key}`);
    for (const u of await store.multipart!.listUploads("")) out.push(`open upload ${u.uploadId} of ${store.url}/${u.key}`);
  }
  return out;
}

/** Everything a run may have left: live workers of its group, objects and open uploads in `stores` (but `keep`), files in its temp dir, records of leftovers. */
export async function allLeftovers(run: CliRun, stores: ObjectStore[], keep: (key: string) => boolean): Promise<string[]> {
  return [
    ...liveProcesses(run.child.pid!).map((p) => `live process ${p}`),
    ...(await storeLeftovers(stores, keep)),
    ...tempLeftovers(run.dirs.tmp).map((f) => `temp ${f}`),
    ...readdirSync(run.dirs.state).map((f) => `record ${f}`),
  ];
}

export function s3Env(server: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  return { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: server.region, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
}
