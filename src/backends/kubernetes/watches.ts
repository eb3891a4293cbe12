/**
 * One watch on the backend's Jobs and one on their pods, shared by every attempt (two long-lived
 * connections per manager, not a poll per attempt): the informers list then watch the objects
 * labelled with the backend's instance id, and call each attempt's tracker, found by Job name.
 * A dropped watch is restarted; its relist replays the current state (and deletions).
 */
import { BatchV1Api, CoreV1Api, makeInformer, type KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../../job/clock.js";

export interface JobTracker {
  onJob(job: V1Job): void;
  onJobDeleted(): void;
  onPod(pod: V1Pod): void;
}

export interface Watches {
  /** Resolves once both informers listed; rejects with the API's error when the first list fails. */
  ready(): Promise<void>;
  track(jobName: string, tracker: JobTracker): void;
  untrack(jobName: string): void;
  stop(): Promise<void>;
}

export function watchJobsAndPods(kc: KubeConfig, namespace: string, selector: string, clock: () => Clock): Watches {
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const trackers = new Map<string, JobTracker>();
  const jobs = makeInformer<V1Job>(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, () => batch.listNamespacedJob({ namespace, labelSelector: selector }), selector);
  const pods = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace, labelSelector: selector }), selector);
  let started: Promise<void> | undefined;
  let stopped = false;

  const jobOf = (pod: V1Pod): string | undefined => pod.metadata?.labels?.["batch.kubernetes.io/job-name"] ?? pod.metadata?.labels?.["job-name"];
  const onJob = (job: V1Job): void => trackers.get(job.metadata?.name ?? "")?.onJob(job);
  const onPod = (pod: V1Pod): void => {
    const name = jobOf(pod);
    if (name) trackers.get(name)?.onPod(pod);
  };
  jobs.on("add", onJob);
  jobs.on("update", onJob);
  jobs.on("delete", (job) => trackers.get(job.metadata?.name ?? "")?.onJobDeleted());
  pods.on("add", onPod);
  pods.on("update", onPod);
  pods.on("delete", onPod);
  for (const informer of [jobs, pods]) {
    informer.on("error", () => {
      if (!stopped) clock().setTimeout(() => void (stopped ? undefined : informer.start().catch(() => undefined)), 1000);
    });
  }

  return {
    ready() {
      started ??= Promise.all([jobs.start(), pods.start()]).then(() => undefined);
      started.catch(() => (started = undefined));
      return started;
    },
    track: (name, tracker) => void trackers.set(name, tracker),
    untrack: (name) => void trackers.delete(name),
    async stop() {
      stopped = true;
      await Promise.all([jobs.stop(), pods.stop()]).catch(() => undefined);
    },
  };
}
