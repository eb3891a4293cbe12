/**
 * A remote attempt's objects (envelope, reply, channel batches: keys.ts) live under
 * `<store><jobId>/`, the backend's store or the scheduler's result store, not under the job's
 * work prefix. That directory is registered as the job's temporary (src/job/temporaries.ts
 * `addForJob`) when its first attempt is staged, so the job's cleanup removes it with the work
 * prefix, after a failure too, and a job killed outright lists it for `smelter clean <job>`.
 */
import { temporaries } from "../../job/temporaries.js";

/** Registers the job directory `resultUrl` lies in (`<root>/<key...><jobId>/results/<attemptId>.json`); a URL of another layout registers nothing. */
export function registerJobObjects(resultUrl: string, jobId: string): void {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/(.*?)$/.exec(resultUrl);
  if (!m) return;
  const key = m[2]!;
  const at = key.lastIndexOf(`${jobId}/results/`);
  if (at < 0 || (at > 0 && key[at - 1] !== "/")) return;
  temporaries.addForJob(jobId, { kind: "prefix", store: m[1]!, prefix: key.slice(0, at + jobId.length + 1) });
}
