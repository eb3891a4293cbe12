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

/** The pids of the CLI's workers now (its process group but itself). */
export function workerPids(run: CliRun): number[] {
  return liveProcesses(run.child.pid!)
    .map((p) => Number(p.split(" ")[0]))
    .filter((pid) => pid !== run.child.pid);
}

/** Alive and not a zombie (a zombie has stopped; its parent has not reaped it yet): read from /proc, no process spawned. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * When the CLI's workers stopped, measured from `sent` (the signal) by when each was last SEEN
 * ALIVE, not when a poll first found it gone: on a loaded machine this process may be scheduled
 * late, which delays what it sees but never makes a stopped worker look alive later. `pids` are
 * the workers before the signal; the group is listed again every 250 ms for any started since.
 * Resolves with `lastAliveMs` (0 when none was alive after `sent`) and `stopped` (all gone within `timeoutMs`).
 */
export async function workersGone(run: CliRun, pids: number[], sent: number, timeoutMs = 10_000): Promise<{ lastAliveMs: number; stopped: boolean }> {
  const tracked = new Set(pids);
  let lastAlive = sent;
  let listed = performance.now();
  while (performance.now() - sent < timeoutMs) {
    if (performance.now() - listed > 250) {
      for (const pid of workerPids(run)) tracked.add(pid);
      listed = performance.now();
    }
    const t = performance.now();
    const alive = [...tracked].filter(isAlive);
    if (alive.length === 0) return { lastAliveMs: Math.max(0, lastAlive - sent), stopped: true };
    lastAlive = t;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { lastAliveMs: Math.max(0, lastAlive - sent), stopped: false };
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
