/**
 * A container backend in miniature, for tests: each attempt is a real process running Smelter's
 * container entry (bin/smelter-task.js), as a Fargate task or a pod runs it, given its envelope by
 * the shared manager side (src/backends/remote/: remoteEnvelope, remoteOutcome). Exit -> reply
 * read from the work store; kill -> SIGTERM, SIGKILL after a grace, confirmed by the exit.
 */
import { spawn } from "node:child_process";
import pLimit from "p-limit";
import { fileURLToPath } from "node:url";
import type { AttemptHandle, AttemptOutcome, Backend } from "../../src/backends/contract.js";
import { remoteEnvelope, type RemoteEnvelope } from "../../src/backends/remote/envelope.js";
import { remoteOutcome } from "../../src/backends/remote/outcome.js";
import type { RemoteStore } from "../../src/backends/remote/store.js";
import type { RemoteChannel } from "../../src/backends/remote/channel.js";
import { CancelledError, serializeError } from "../../src/job/errors.js";
import { emptyStats } from "../../src/job/stats.js";
import { RUNNING_MARKER } from "../../src/remote-task.js";

export const TASK_BIN = fileURLToPath(new URL("../../../bin/smelter-task.js", import.meta.url));

export interface RemoteProcessOptions {
  store: RemoteStore;
  /** The worker module (SMELTER_WORKER_MODULE). */
  workerModule: string;
  /** More environment for every process (the store's endpoint and credentials, a channel). */
  env?: Record<string, string>;
  /** The live channel for heartbeats and logs (without it they come with the reply). */
  channel?: RemoteChannel;
  inlineLimit?: number;
  /** Attempts at once. @default 2 */
  maxConcurrency?: number;
  /** SIGKILL this long after SIGTERM. @default 1000 */
  killGraceMs?: number;
}

export function remoteProcessBackend(o: RemoteProcessOptions): Backend & { lastStderr: () => string } {
  let n = 0;
  let lastStderr = "";
  const limit = pLimit(o.maxConcurrency ?? 2);
  return {
    name: "remote-process",
    maxConcurrency: o.maxConcurrency ?? 2,
    lastStderr: () => lastStderr,
    launch(envelope, listener): AttemptHandle {
      const launchedAt = Date.now();
      const stats = () => emptyStats(launchedAt, Date.now());
      let killReason: string | undefined;
      let killRequested!: () => void;
      const killed = new Promise<void>((r) => (killRequested = r));
      let exited!: Promise<number | null>;
      let pid = 0;
      const result = limit(async (): Promise<AttemptOutcome> => {
        if (killReason !== undefined) return { status: "failed", error: serializeError(new CancelledError(`attempt ${envelope.attemptId} was cancelled before it started: ${killReason}`)), stats: stats() };
        let remote: RemoteEnvelope;
        try {
          remote = await remoteEnvelope({ envelope, store: o.store, ...(o.inlineLimit ? { inlineLimit: o.inlineLimit } : {}) });
        } catch (err) {
          return { status: "failed", error: serializeError(err), stats: stats() };
        }
        const watch = o.channel?.watch(envelope.attemptId, remote.resultUrl, listener);
        const extra = watch?.env ?? {};
        const child = spawn(process.execPath, [TASK_BIN], { env: { ...process.env, SMELTER_TASK: "", ...o.env, ...extra, ...remote.env, SMELTER_WORKER_MODULE: o.workerModule }, stdio: ["ignore", "pipe", "pipe"] });
        pid = child.pid ?? 0;
        let stderr = "";
        // Running once the entry says so on stdout (a platform's "running" comes before Node's boot; here the heartbeat timeout starts after it).
        let running = false;
        child.stdout.on("data", (c: Buffer) => {
          if (running || !c.toString().includes(RUNNING_MARKER)) return;
          running = true;
          listener.onRunning({ runtimeId: `pid-${pid}`, cold: true });
        });
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        exited = new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + 9 : null))));
        void killed.then(() => {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), o.killGraceMs ?? 1000);
          void exited.then(() => clearTimeout(t));
        });
        const code = await exited;
        await watch?.stop();
        lastStderr = stderr;
        if (killReason !== undefined) {
          await remote.cleanup();
          return { status: "failed", error: serializeError(new CancelledError(`attempt ${envelope.attemptId} was cancelled: ${killReason}`)), stats: stats() };
        }
        return remoteOutcome({ exitCode: code, store: o.store, remote, listener, where: `process ${pid}`, logsWhere: `its stderr (${stderr.trim().split("\n").slice(-3).join(" | ")})`, stats });
      });
      let settled = false;
      void result.then(() => (settled = true));
      return {
        runtimeId: `remote-${++n}-pending`,
        result,
        async kill(reason) {
          if (settled || killReason !== undefined) return "stopped";
          killReason = reason;
          killRequested();
          await result;
          return "stopped";
        },
      };
    },
  };
}
