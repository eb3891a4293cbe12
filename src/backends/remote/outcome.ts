/**
 * The manager side's last step for a container attempt (Fargate, Kubernetes): once the container
 * exited, turn its exit code and its reply into the attempt's outcome, then remove the attempt's
 * objects. A backend maps what only it knows first (OOMKilled, a Spot interruption, a kill it
 * asked for) and calls {@link remoteOutcome} for the rest.
 */
import type { AttemptListener, AttemptOutcome } from "../../job/attempt.js";
import { ConfigError, serializeError, SmelterError, TaskCrashedError } from "../../job/errors.js";
import type { AttemptStats } from "../../job/stats.js";
import type { RemoteEnvelope } from "./envelope.js";
import { deliverReply, readRemoteReply } from "./reply.js";
import type { RemoteObjects } from "./store.js";

/** The container entry's exit codes (src/remote-task.ts); any other non-zero code is the worker's own exit. */
export const REMOTE_EXIT = {
  /** The reply is at `resultUrl`, whatever the outcome. */
  replied: 0,
  /** No envelope in SMELTER_TASK / SMELTER_TASK_URL, or it could not be read (EX_NOINPUT). */
  noEnvelope: 66,
  /** The envelope has no `resultUrl` (EX_CONFIG). */
  noResultUrl: 78,
  /** The reply could not be written (EX_IOERR). */
  replyUnwritten: 74,
  /** Stopped by SIGTERM (no reply written): the backend maps it from the platform's stop reason. */
  sigterm: 143,
} as const;

export interface RemoteOutcomeOptions {
  /** The container's exit code (null when unknown). */
  exitCode: number | null;
  store: Pick<RemoteObjects, "read">;
  remote: Pick<RemoteEnvelope, "resultUrl" | "envelope" | "cleanup">;
  listener: Pick<AttemptListener, "onLog" | "onHeartbeat">;
  /** The container for messages: `ECS task arn:...`, `pod smelter-j1-...`. */
  where: string;
  /** Where the worker's full logs are, for messages. */
  logsWhere: string;
  /** What the manager measured, for outcomes the worker did not report. */
  stats: () => AttemptStats;
}

/** Exit 0: the reply's outcome (logs and heartbeats delivered first). Otherwise a failure naming the code. Cleans up the attempt's objects. Never throws. */
export async function remoteOutcome(o: RemoteOutcomeOptions): Promise<AttemptOutcome> {
  const id = o.remote.envelope.attemptId;
  const failed = (err: unknown): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: o.stats() });
  try {
    if (o.exitCode === REMOTE_EXIT.replied) {
      const reply = await readRemoteReply(o.store, o.remote.resultUrl, id);
      return deliverReply(reply, o.listener, o.logsWhere);
    }
    return failed(exitError(o.exitCode, id, o.where, o.logsWhere));
  } catch (err) {
    return failed(err);
  } finally {
    await o.remote.cleanup();
  }
}

/** The error for a container that exited without a reply. */
export function exitError(code: number | null, attemptId: string, where: string, logsWhere: string): SmelterError {
  const what = `${where} running attempt ${attemptId}`;
  switch (code) {
    case REMOTE_EXIT.noEnvelope:
      return new ConfigError(`${what} could not read its envelope (exit ${code}): see ${logsWhere}; the worker's role must read the job's work prefix`);
    case REMOTE_EXIT.noResultUrl:
      return new ConfigError(`${what} got an envelope without resultUrl (exit ${code}): the backend must set it (docs/backends/remote.md)`);
    case REMOTE_EXIT.replyUnwritten:
      return new SmelterError(`${what} could not write its reply (exit ${code}): see ${logsWhere}; the worker's role must write the job's work prefix`, { type: "ReplyUnwritten" });
    default:
      return new TaskCrashedError(`${what} exited with code ${code ?? "unknown"} before replying: see ${logsWhere}`, { details: { exitCode: code } });
  }
}
