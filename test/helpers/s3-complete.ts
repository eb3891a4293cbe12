/**
 * Starts the complete S3 server (versitygw, posix backend, installed by scripts/install-s3-server.sh
 * into .tools/bin; `npm test` runs that script first when a selected test needs it) on 127.0.0.1
 * on a free port, for one test file, and stops it after. `SMELTER_VERSITYGW` names another binary.
 * Not installed or not starting: throws within seconds, so the tests that need it FAIL (never
 * skip, never hang) and say why. The child is killed when the test process exits, whatever happens.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../tooling/processes.js";

/** dist/test/helpers -> the repository root. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const COMPLETE_SERVER_BINARY = process.env.SMELTER_VERSITYGW || join(ROOT, ".tools", "bin", "versitygw");

export interface CompleteS3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  /** Creates a bucket (a directory of the posix backend). */
  createBucket(name: string): Promise<void>;
  /** SIGKILLs the server at once (a store gone mid-job); its data directory is kept. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/** `dir` and `port`: serve an existing data directory on a given port (a restart after `crash()`); `dir` is then kept at `stop()`. */
export async function startCompleteS3Server(options: { buckets?: string[]; dir?: string; port?: number } = {}): Promise<CompleteS3Server> {
  if (!existsSync(COMPLETE_SERVER_BINARY)) {
    throw new Error(
      `the complete S3 test server (versitygw) is not installed at ${COMPLETE_SERVER_BINARY}${process.env.SMELTER_VERSITYGW ? " (SMELTER_VERSITYGW)" : ""}: ` +
        `\`npm test\` installs it when missing (scripts/install-s3-server.sh: \`go install\` into .tools/bin, a few minutes once); ` +
        `if that failed, its message is above the test output: run \`npm run setup:s3\` to see it again`,
    );
  }
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "smelter-vgw-")));
  const accessKeyId = "smelter-test";
  const secretAccessKey = "smelter-test-secret";
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(COMPLETE_SERVER_BINARY, ["--port", `127.0.0.1:${port}`, "--quiet", "posix", dir], {
      env: { ...process.env, ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    // Whatever happens from here (a failed start, a test that never calls stop()), the child dies with this process.
    const killOnExit = (): void => void child.kill("SIGKILL");
    process.once("exit", killOnExit);
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(endpoint, child, () => (spawnError ? `${spawnError.message}; ${stderr}` : stderr));
    } catch (err) {
      lastError = err;
      await kill(child);
      process.off("exit", killOnExit);
      continue;
    }
    const server: CompleteS3Server = {
      endpoint,
      region: "us-east-1",
      accessKeyId,
      secretAccessKey,
      dir,
      createBucket: async (name) => {
        await mkdir(join(dir, name), { recursive: true });
      },
      crash: async () => {
        process.off("exit", killOnExit);
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      },
      stop: async () => {
        process.off("exit", killOnExit);
        await kill(child);
        if (!options.dir) await rm(dir, { recursive: true, force: true });
      },
    };
    for (const b of options.buckets ?? []) await server.createBucket(b);
    return server;
  }
  if (!options.dir) await rm(dir, { recursive: true, force: true });
  throw lastError;
}


/** Polls the endpoint until it answers HTTP (any status), for at most 15 s. */
async function waitUntilServing(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
      throw new Error(`versitygw (${COMPLETE_SERVER_BINARY}) ${child.pid === undefined ? "could not be started" : `exited with ${child.exitCode ?? child.signalCode}`}: ${stderr().trim() || "no output"}`);
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`versitygw did not answer on ${endpoint} within 15 s: ${stderr()}`);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
