/**
 * The local temp directories (`jobTempDir`) of the jobs whose attempts a local backend ran on this
 * machine: removed when the backend closes, as a worker stopped midway may have made one again
 * after its job's own cleanup. A local-backend concern: remote workers' are on their own machines.
 */
import { rm } from "node:fs/promises";
import { jobTempDir } from "../job/temporaries.js";

export function localJobDirs(): { add(jobId: string): void; removeAll(): Promise<void> } {
  const jobs = new Set<string>();
  return {
    add: (jobId) => void jobs.add(jobId),
    async removeAll() {
      for (const id of [...jobs]) await rm(jobTempDir(id), { recursive: true, force: true }).catch(() => undefined);
      jobs.clear();
    },
  };
}
