/**
 * Small process and port helpers shared by the cloud test endpoints (test tooling, not product
 * code): install a tool with the project's own script, find a free loopback port, wait until a
 * port or URL answers, and stop a child process (its whole process group) for sure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, connect } from "node:net";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** dist/test/tooling -> the repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const TOOLS_BIN = join(REPO_ROOT, ".tools", "bin");

/**
 * Runs `bash scripts/<script>` (idempotent: returns at once when the pinned version is installed).
 * Rejects with the script's last output lines when it fails, so the calling test fails with the
 * reason. `timeoutMs` bounds a first build (the kube control plane takes ~6 min on 2 cores).
 */
export async function ensureInstalled(script: string, timeoutMs: number): Promise<void> {
  const child = spawn("bash", [join(REPO_ROOT, "scripts", script)], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const timer = setTimeout(() => void stopProcess(child, 0), timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  if (code !== 0) {
    const tail = output.trim().split("\n").slice(-8).join("\n");
    const why = code === null ? `did not finish within ${Math.round(timeoutMs / 1000)} s` : `exited with code ${code}`;
    throw new Error(`scripts/${script} ${why}; run \`bash scripts/${script}\` by hand to see why:\n${tail}`);
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const address = srv.address();
  srv.close();
  await once(srv, "close");
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeoutMs` or when `child` exits. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess, describe = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on port ${port}: ${describe()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(25);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms: ${describe()}`);
}

/** Polls `check` until it returns a value other than undefined; rejects after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, lastError === undefined ? undefined : { cause: lastError });
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends `signal` to the child's process group (spawn it with `detached: true`) or to the child,
 * then SIGKILL after `graceMs`; resolves once it has exited.
 */
export async function stopProcess(child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  const send = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  send(graceMs > 0 ? signal : "SIGKILL");
  const timer = graceMs > 0 ? setTimeout(() => send("SIGKILL"), graceMs) : undefined;
  await exited;
  clearTimeout(timer);
}

/** Kills the child's process group when this process exits, whatever happens to the test; returns the undo. */
export function killOnExit(child: ChildProcess): () => void {
  const kill = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  };
  process.once("exit", kill);
  return () => process.off("exit", kill);
}
