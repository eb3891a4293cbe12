/**
 * `smelter/remote-task`: the entry of a container that runs ONE attempt for a remote backend
 * (Fargate, Kubernetes Jobs; bin/smelter-task.js is its command). docs/backends/remote.md has the
 * protocol. From the environment it reads:
 * - `SMELTER_TASK` (the envelope as JSON) or `SMELTER_TASK_URL` (its object URL in the job's work store);
 * - `SMELTER_WORKER_MODULE`: the user's worker module (the file that calls `defineWorker`);
 * - optionally the live channel to the manager: SMELTER_CHANNEL_URL and SMELTER_CHANNEL_TOKEN (HTTP),
 *   SMELTER_CHANNEL_PREFIX (batches in the work store), SMELTER_CHANNEL_FLUSH_MS
 *   (src/backends/remote/channel-client.ts); without one, heartbeats and log lines go with the reply.
 * It runs the attempt with `runTask` until the envelope's `deadline`, prints `ctx.log` lines to
 * stdout (the container's logs keep them all), writes the reply (outcome with stats, the log lines
 * the manager has not received, the last heartbeat) as JSON to the envelope's `resultUrl`, and
 * exits 0. Non-zero only when it could not run or answer (sysexits codes, unlikely to be a worker's
 * own `process.exit`): 66 no envelope given or readable, 78 the envelope has no resultUrl, 74 the
 * reply could not be written; 143 after SIGTERM (no reply: the backend knows from the platform
 * why it was stopped), at once when the worker function stops, else after the grace. Any other code is the worker's own exit (a crash). Credentials come from the environment (the task's or
 * pod's role), never from the envelope.
 */
import { hostname } from "node:os";
import type { AttemptOutcome, TaskEnvelope } from "./job/attempt.js";
import { CancelledError, serializeError, SmelterError } from "./job/errors.js";
import { systemContext, type RuntimeContext, type TimerHandle } from "./job/runtime-context.js";
import { emptyStats } from "./job/stats.js";
import { envelopeFromEnv } from "./backends/remote/envelope.js";
import { REMOTE_PROTOCOL, type RemoteReply } from "./backends/remote/reply.js";
import { REMOTE_EXIT } from "./backends/remote/outcome.js";
import { openWorkerChannel } from "./backends/remote/channel-client.js";
import { loadWorkerModule, ReplyLog, runRemoteAttempt } from "./backends/remote/worker-side.js";
import type { RemoteObjects } from "./backends/remote/store.js";
import { urlObjects } from "./url-objects.js";

export { remoteStore, urlObjects } from "./url-objects.js";

/** Exit codes of the entry (the backend maps them; 0 means "read the reply"). */
export { REMOTE_EXIT as EXIT } from "./backends/remote/outcome.js";

/** The first line the entry prints on stdout, followed by the attempt id: the process is up (for a platform's logs, and tests). */
export const RUNNING_MARKER = "[smelter] running attempt ";

/** After SIGTERM (ECS StopTask, a Spot interruption, a pod deletion), how long the worker function has to stop before the process exits 143. */
export const SIGTERM_GRACE_MS = 5000;

export interface RemoteTaskOptions {
  env?: Record<string, string | undefined>;
  objects?: RemoteObjects;
  context?: RuntimeContext;
  /** Where lines go (the container's stdout / stderr). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Runs the attempt described by the environment; resolves with the process's exit code. Never throws. */
export async function runRemoteTask(o: RemoteTaskOptions = {}): Promise<number> {
  const env = o.env ?? process.env;
  const objects = o.objects ?? urlObjects;
  const context = o.context ?? systemContext();
  const out = o.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const err = o.err ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let envelope: TaskEnvelope;
  try {
    envelope = await envelopeFromEnv(env, objects);
  } catch (e) {
    err(messageOf(e));
    return REMOTE_EXIT.noEnvelope;
  }
  const resultUrl = envelope.resultUrl;
  if (!resultUrl) {
    err(`[smelter] the envelope of attempt ${envelope.attemptId} has no resultUrl: the reply has nowhere to go (the backend must set it; docs/backends/remote.md)`);
    return REMOTE_EXIT.noResultUrl;
  }
  out(`${RUNNING_MARKER}${envelope.attemptId} (worker "${envelope.worker}") on ${hostname()}`);
  // The worker module may end with runMain(main): "pool" makes it register its workers and return.
  if (env === process.env) process.env.SMELTER_TASK = "pool";
  const replyLog = new ReplyLog();
  const channel = openWorkerChannel({ env, attemptId: envelope.attemptId, objects, context, warn: err });
  const controller = new AbortController();
  let forceExit: TimerHandle | undefined;
  let terminated = false;
  const onSigterm = (): void => {
    terminated = true;
    controller.abort(new CancelledError("the container received SIGTERM (stopped, preempted or deleted)"));
    forceExit = context.clock.setTimeout(() => process.exit(REMOTE_EXIT.sigterm), SIGTERM_GRACE_MS);
  };
  process.once("SIGTERM", onSigterm);
  // Keeps the process alive while the worker function waits on nothing the event loop holds (a
  // promise that never settles): the deadline or the manager's timeouts end it, not Node's exit 13.
  const keepAlive = context.clock.setTimeout(() => {}, 2 ** 31 - 1);
  let outcome: AttemptOutcome;
  try {
    await loadWorkerModule("container");
    outcome = await runRemoteAttempt(envelope, {
      ...(envelope.deadline !== undefined ? { deadline: envelope.deadline } : {}),
      deadlineName: "the attempt's deadline (attemptTimeout)",
      deadlineHint: "raise attemptTimeout or make tasks smaller",
      listener: {
        onLog: (stream, message) => {
          out(message);
          if (channel) channel.send({ t: "log", stream, message });
          else replyLog.addLog({ stream, message });
        },
        onHeartbeat: (details) => (channel ? channel.send({ t: "hb", details }) : replyLog.heartbeat(details)),
      },
      signal: controller.signal,
      context,
    });
  } catch (e) {
    const now = context.clock.now();
    outcome = { status: "failed", error: serializeError(e), stats: emptyStats(now, now) };
  } finally {
    process.off("SIGTERM", onSigterm);
    context.clock.clearTimeout(keepAlive);
  }
  // What the channel could not deliver goes with the reply (in order, nothing twice).
  const left = await channel?.close();
  for (const line of left?.logs ?? []) replyLog.addLog(line);
  for (const details of left?.heartbeats ?? []) replyLog.heartbeat(details);
  if (terminated) {
    // Stopped from outside (a kill, a Spot interruption, a pod deletion): the backend knows why
    // from the platform and takes no reply, so none is written; the process ends at once.
    context.clock.clearTimeout(forceExit);
    err(`[smelter] attempt ${envelope.attemptId} stopped on SIGTERM (${outcome.status})`);
    return REMOTE_EXIT.sigterm;
  }
  const reply: RemoteReply = { smelter: REMOTE_PROTOCOL, attemptId: envelope.attemptId, runtime: hostname(), outcome, ...replyLog.fields() };
  try {
    await objects.write(resultUrl, JSON.stringify(reply));
  } catch (e) {
    err(`[smelter] could not write the reply of attempt ${envelope.attemptId} to ${resultUrl} (${messageOf(e)}): the worker's role must be allowed to write the job's work prefix`);
    return REMOTE_EXIT.replyUnwritten;
  } finally {
    context.clock.clearTimeout(forceExit);
  }
  return REMOTE_EXIT.replied;
}

function messageOf(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  return e instanceof SmelterError || message.startsWith("[smelter]") ? message : `[smelter] ${message}`;
}
