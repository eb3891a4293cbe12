/**
 * One attempt as a Kubernetes Job: one pod, `backoffLimit: 0` (Smelter retries, not the Job
 * controller), `restartPolicy: Never`, `activeDeadlineSeconds` from the attempt's deadline,
 * `ttlSecondsAfterFinished` as a backstop should the manager go away, labels naming the job,
 * stage, task and attempt, and the container entry with the attempt in its environment.
 */
import type { V1Job } from "@kubernetes/client-node";
import type { TaskEnvelope } from "../../job/attempt.js";
import type { ResolvedKubernetesSettings } from "./settings.js";

/** Label keys on every Job and pod the backend creates. */
export const LABELS = {
  /** The backend instance (one per manager): its watches select on it. */
  instance: "smelter.dev/instance",
  job: "smelter.dev/job",
  stage: "smelter.dev/stage",
  task: "smelter.dev/task",
  attempt: "smelter.dev/attempt",
} as const;

/** The container's name in every pod. */
export const CONTAINER = "task";

/** A DNS-1123 label (Job names end up in the pods' `job-name` label: 63 characters at most). */
export function jobName(envelope: TaskEnvelope, instance: string): string {
  const base = `smelter-${envelope.attemptId}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  const tail = `-${instance}`;
  return `${base.slice(0, 63 - tail.length).replace(/-+$/, "")}${tail}`;
}

/** A label value: 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
function labelValue(value: string | number): string {
  return String(value).replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "") || "x";
}

export interface JobSpecInput {
  envelope: TaskEnvelope;
  name: string;
  instance: string;
  settings: ResolvedKubernetesSettings;
  /** How the container finds its attempt and its channel (SMELTER_TASK or SMELTER_TASK_URL, ...). */
  env: Record<string, string>;
  /** Seconds until the attempt's deadline, when it has one. */
  deadlineSeconds?: number;
}

export function attemptJob(i: JobSpecInput): V1Job {
  const s = i.settings;
  const e = i.envelope;
  const labels = { ...s.labels, [LABELS.instance]: i.instance, [LABELS.job]: labelValue(e.jobId), [LABELS.stage]: String(e.stage), [LABELS.task]: String(e.task), [LABELS.attempt]: String(e.attempt) };
  const env = {
    ...s.env,
    ...(s.workerModule ? { SMELTER_WORKER_MODULE: s.workerModule } : {}),
    ...i.env,
  };
  const resources = { cpu: s.cpu, memory: s.memory };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: i.name, namespace: s.namespace, labels, annotations: { "smelter.dev/attempt-id": e.attemptId, "smelter.dev/worker": e.worker } },
    spec: {
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      ...(i.deadlineSeconds !== undefined ? { activeDeadlineSeconds: i.deadlineSeconds } : {}),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
          ...(s.serviceAccountName ? { serviceAccountName: s.serviceAccountName } : {}),
          // The worker needs no Kubernetes API access: no token in the pod.
          automountServiceAccountToken: false,
          ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
          containers: [
            {
              name: CONTAINER,
              image: s.image,
              imagePullPolicy: s.imagePullPolicy,
              command: s.command,
              env: [
                ...Object.entries(env).map(([name, value]) => ({ name, value })),
                { name: "SMELTER_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              resources: { requests: resources, limits: resources },
            },
          ],
        },
      },
    },
  };
}
