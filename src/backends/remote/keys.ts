/**
 * Where a remote attempt's objects live in the job's work store. Every key is scoped to the
 * attempt (its id is in it), so a late or abandoned attempt can only ever write its own keys:
 * its output is never taken for another attempt's.
 *   <work><jobId>/results/<attemptId>.json           the reply (container backends) or output (Lambda)
 *   <work><jobId>/results/<attemptId>.envelope.json  the envelope, when too large to pass inline
 *   <work><jobId>/channel/<attemptId>/<seq>.ndjson   heartbeats and log lines, when the manager is out of reach
 * `<work><jobId>/results/<attemptId>.json` is the scheduler's `resultUrl` when the job has a work
 * store (src/scheduler/stage.ts); a backend with a store of its own uses the same layout under it.
 */
import type { TaskEnvelope } from "../../job/attempt.js";

/** The attempt's result URL: the envelope's own, else `<storeUrl><jobId>/results/<attemptId>.json`, else undefined. */
export function attemptResultUrl(envelope: Pick<TaskEnvelope, "jobId" | "attemptId" | "resultUrl">, storeUrl: string | undefined): string | undefined {
  return envelope.resultUrl ?? (storeUrl ? `${withSlash(storeUrl)}${envelope.jobId}/results/${envelope.attemptId}.json` : undefined);
}

/** Where an envelope too large to pass inline is written: next to the attempt's result. */
export function envelopeUrlFor(resultUrl: string): string {
  return resultUrl.replace(/(\.json)?$/, ".envelope.json");
}

/** The prefix (ending in `/`) of the attempt's store channel: `<...><jobId>/channel/<attemptId>/` next to `<...><jobId>/results/<attemptId>.json`. */
export function channelPrefixFor(resultUrl: string, attemptId: string): string {
  const m = /^(.*\/)results\/[^/]+$/.exec(resultUrl);
  return m ? `${m[1]}channel/${attemptId}/` : `${resultUrl.replace(/(\.json)?$/, "")}.channel/`;
}

/** The URL of batch `seq` (0, 1, 2, ...) of a store channel. */
export function channelBatchUrl(prefix: string, seq: number): string {
  return `${prefix}${String(seq).padStart(6, "0")}.ndjson`;
}

export function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}
