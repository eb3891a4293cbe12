/**
 * The `kubernetes` backend: each attempt is one Kubernetes Job with one pod, created through
 * `@kubernetes/client-node`, running Smelter's container entry (bin/smelter-task.js) in the
 * user's image. Why a Job per attempt and not an indexed Job per stage: kills, speculation,
 * retries and deadlines are per attempt in Smelter's contract, and a Job per attempt maps each
 * to one Kubernetes object (delete it, set its deadline) with no bookkeeping of indexes. It costs
 * one create and one delete per attempt (plus a log read on a failure, and a delete + reads on a
 * kill); the state comes from two shared watches (Jobs and pods of this backend), not from polls.
 * - The envelope goes in the container's environment (`SMELTER_TASK`, or `SMELTER_TASK_URL` when
 *   large), the reply comes back through the job's work store (`resultUrl`); logs and heartbeats
 *   arrive live through the channel the settings' `channel` opens (unless `off`), else with the reply.
 * - Pending -> Running is the running event: `onRunning({ runtimeId: <pod name>, cold: true, capacity })`
 *   (every pod is a new container; capacity: the pod's requests, which the cost estimate prices).
 * - A pod the scheduler cannot place for `unschedulableMs` (condition PodScheduled=False,
 *   Unschedulable), or a full ResourceQuota, is a `no-capacity` outcome: the Job is deleted and
 *   the scheduler relaunches later without spending the retry budget. A pod placed but not running
 *   after `startTimeoutMs` fails with StartTimeout (retryable), naming what it waits for.
 * - The outcome is the container's reply; without one, its termination: OOMKilled ->
 *   OutOfMemory (not retried by default), DeadlineExceeded -> TaskTimeout, an exit code ->
 *   TaskCrashed with the pod log's last lines (src/backends/kubernetes/termination.ts).
 * - `kill` deletes the Job with `propagationPolicy: Foreground` and waits until the Job is gone
 *   (its pod stopped and removed): "stopped"; past `killTimeoutMs`, "abandoned".
 * Credentials: the manager's come from its kubeconfig; the pods' from their service account's
 * cloud role. Neither is ever in a Job spec, an envelope or a log line.
 */
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job, type V1Pod } from "@kubernetes/client-node";
import pLimit from "p-limit";
import type { AttemptOutcome, TaskEnvelope } from "../../job/attempt.js";
import { CancelledError, ConfigError, serializeError, StartTimeoutError } from "../../job/errors.js";
import { parseOrThrow } from "../../job/policy.js";
import { systemContext, type RuntimeContext } from "../../job/runtime-context.js";
import { emptyStats, type AttemptStats } from "../../job/stats.js";
import type { AttemptHandle, AttemptListener, Backend, BackendHost, KillOutcome } from "../contract.js";
import { cancellable } from "../remote/cancellable.js";
import { remoteEnvelope, type RemoteEnvelope } from "../remote/envelope.js";
import { remoteOutcome } from "../remote/outcome.js";
import type { RemoteStore } from "../remote/store.js";
import { httpStatus, isNotFound, isQuotaExceeded, kubeApiError } from "./api-errors.js";
import { attemptJob, CONTAINER, jobName, LABELS } from "./job-spec.js";
import { kubernetesSettingsSchema, podCapacity, type KubernetesSettings, type ResolvedKubernetesSettings } from "./settings.js";
import { jobFailure, kubernetesTermination, terminatedState } from "./termination.js";
import { watchJobsAndPods, type JobTracker, type Watches } from "./watches.js";
import { lazyChannel } from "../channel-settings.js";

export const NAME = "kubernetes";

export interface KubernetesBackendOptions extends KubernetesSettings {
  /** A loaded KubeConfig (tests, embedding); `kubeconfig` and `context` are then ignored. */
  kubeConfig?: KubeConfig;
  /** The job's work store (or one of the backend's own): replies and large envelopes go through it. Required. */
  store: RemoteStore;
}

type End =
  | { kind: "finished"; pod?: V1Pod; job?: V1Job }
  | { kind: "unschedulable"; message: string }
  | { kind: "start-timeout"; waiting: string }
  | { kind: "killed" };

export type KubernetesBackend = Backend & {
  /** Lists Jobs in the namespace: the API server answers, the credentials work, the namespace exists and RBAC allows it. Throws ConfigError / a clear SmelterError. */
  check(): Promise<void>;
};

/** Creates the Kubernetes backend. Throws ConfigError on bad options. */
export function kubernetesBackend(options: KubernetesBackendOptions): KubernetesBackend {
  const { kubeConfig, store, ...settings } = options;
  const s: ResolvedKubernetesSettings = parseOrThrow(kubernetesSettingsSchema, settings, `${NAME} backend options`);
  const capacity = podCapacity(s);
  const channel = lazyChannel(s.channel, store, () => context);
  if (!store || typeof store.read !== "function" || typeof store.url !== "string") throw new ConfigError(`${NAME} backend options: a store is required (the job's work store, e.g. remoteStore("s3://bucket/_smelter/")): the containers answer through it`);
  const kc = kubeConfig ?? loadKubeConfig(s);
  const server = kc.getCurrentCluster()?.server ?? "(no server in the kubeconfig)";
  const where = `at ${server} (namespace ${s.namespace})`;
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const instance = systemContext().ids.hex(6); // labels this backend's Jobs; unique enough per manager
  let context: RuntimeContext = systemContext();
  const watches: Watches = watchJobsAndPods(kc, s.namespace, `${LABELS.instance}=${instance}`, () => context.clock);
  const limit = pLimit(s.concurrency);
  let launched = 0;
  let closed = false;

  async function deleteJob(name: string, propagationPolicy: "Foreground" | "Background"): Promise<void> {
    try {
      await batch.deleteNamespacedJob({ name, namespace: s.namespace, propagationPolicy });
    } catch (err) {
      if (!isNotFound(err)) throw kubeApiError(err, `delete Job ${name}`, where);
    }
  }

  /** Resolves true once the Job is gone (read says 404), false after `ms`. */
  async function waitGone(name: string, gone: Promise<void>, ms: number): Promise<boolean> {
    const until = context.clock.now() + ms;
    let seenGone = false;
    void gone.then(() => (seenGone = true));
    while (context.clock.now() < until) {
      if (seenGone) return true;
      try {
        await batch.readNamespacedJob({ name, namespace: s.namespace });
      } catch (err) {
        if (isNotFound(err)) return true;
      }
      await Promise.race([gone, context.clock.sleep(Math.min(500, Math.max(0, until - context.clock.now())))]);
    }
    return seenGone;
  }

  async function logTail(pod: V1Pod | undefined): Promise<string> {
    const name = pod?.metadata?.name;
    if (!name) return "";
    try {
      const log = await core.readNamespacedPodLog({ name, namespace: s.namespace, container: CONTAINER, tailLines: 20, limitBytes: 8192 });
      const lines = String(log).split("\n").filter((l) => l.trim() !== "");
      return lines.length ? `; last log lines of pod ${name}:\n  ${lines.join("\n  ")}` : "";
    } catch (err) {
      return `; the log of pod ${name} could not be read (${httpStatus(err) ?? ""} ${(err as Error).message?.split("\n")[0]?.slice(0, 200)})`;
    }
  }

  interface State {
    killed: boolean;
    /** The attempt left the backend's queue (its `run` began). */
    started: boolean;
    /** Set once the Job exists: its name. */
    created?: string;
    /** Resolves when the create call is over (or was never made). */
    createDone: Promise<void>;
    markCreateDone: () => void;
    end?: (e: End) => void;
    gone: Promise<void>;
    markGone: () => void;
    kill?: Promise<KillOutcome>;
  }

  async function run(envelope: TaskEnvelope, listener: AttemptListener, state: State): Promise<AttemptOutcome> {
    const launchedAt = context.clock.now();
    const stats = (from = launchedAt): AttemptStats => emptyStats(from, context.clock.now());
    const failed = (err: unknown, from?: number): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: stats(from) });
    const what = `attempt ${envelope.attemptId} (worker "${envelope.worker}")`;
    state.started = true;
    if (state.killed) return (state.markCreateDone(), failed(new CancelledError(`${what} was cancelled while queued`)));
    if (closed) return (state.markCreateDone(), failed(new CancelledError(`${what} was not started: the ${NAME} backend was closed`)));
    let remote: RemoteEnvelope | undefined;
    let route: { env: Record<string, string>; stop(): Promise<void> } | undefined;
    const name = jobName(envelope, instance);
    let tracked = false;
    let podEnded = false; // its container was seen terminated: it writes nothing more
    try {
      try {
        remote = await remoteEnvelope({ envelope, store });
        route = (await channel.get())?.watch(envelope.attemptId, remote.resultUrl, listener);
        await watches.ready();
      } catch (err) {
        state.markCreateDone();
        return failed(httpStatus(err) !== undefined || /fetch|ECONN|ENOTFOUND|socket/i.test(String((err as Error)?.message)) ? kubeApiError(err, "watch Jobs and pods", where) : err);
      }
      if (state.killed) return (state.markCreateDone(), failed(new CancelledError(`${what} was cancelled before its Job was created`)));
      const remaining = envelope.deadline === undefined ? undefined : envelope.deadline - context.clock.now();
      const job = attemptJob({ envelope: remote.envelope, name, instance, settings: s, env: { ...remote.env, ...route?.env }, ...(remaining !== undefined ? { deadlineSeconds: Math.max(1, Math.ceil(remaining / 1000)) } : {}) });

      let lastPod: V1Pod | undefined;
      let lastJob: V1Job | undefined;
      let running = false;
      let runningAt: number | undefined;
      const ended = new Promise<End>((resolve) => (state.end = resolve));
      const finish = (e: End): void => state.end?.(e);
      const started = (pod: V1Pod): boolean => pod.status?.phase === "Running" || pod.status?.containerStatuses?.[0]?.state?.running !== undefined || (terminatedState(pod)?.startedAt !== undefined && pod.status?.phase !== "Pending");
      const markRunning = (pod: V1Pod): void => {
        if (running || state.killed) return;
        running = true;
        runningAt = context.clock.now();
        listener.onRunning({ runtimeId: pod.metadata?.name ?? name, cold: true, capacity });
      };
      const tracker: JobTracker = {
        onPod(pod) {
          if (lastPod && lastPod.metadata?.name !== pod.metadata?.name && lastPod.status?.phase !== "Pending") return; // only the first pod that started counts
          lastPod = pod;
          if (started(pod)) markRunning(pod);
          const phase = pod.status?.phase;
          if (phase === "Succeeded" || phase === "Failed") {
            podEnded = true;
            finish({ kind: "finished", pod, job: lastJob });
          }
        },
        onJob(j) {
          lastJob = j;
          const failure = jobFailure(j);
          const complete = j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True");
          // A deadline ends the Job while its pod is being deleted: its status may never say so.
          if (failure?.reason === "DeadlineExceeded" || complete || (failure && !lastPod)) finish({ kind: "finished", pod: lastPod, job: j });
        },
        onJobDeleted() {
          state.markGone();
          finish({ kind: "finished", pod: lastPod, job: lastJob });
        },
      };
      watches.track(name, tracker);
      tracked = true;
      try {
        await batch.createNamespacedJob({ namespace: s.namespace, body: job });
        state.created = name;
      } catch (err) {
        if (isQuotaExceeded(err)) return { status: "no-capacity", reason: `the namespace's ResourceQuota is full ${where}: ${(err as Error).message.split("\n")[0]}`, retryAfterMs: s.noCapacityRetryMs, stats: stats() };
        return failed(kubeApiError(err, `create Job ${name}`, where));
      } finally {
        state.markCreateDone();
      }
      if (state.killed) state.end?.({ kind: "killed" });

      const unschedulableTimer = context.clock.setTimeout(() => {
        const c = lastPod?.status?.conditions?.find((x) => x.type === "PodScheduled");
        if (!running && c?.status === "False" && c.reason === "Unschedulable") finish({ kind: "unschedulable", message: c.message ?? "Unschedulable" });
      }, s.unschedulableMs);
      const startTimer = context.clock.setTimeout(() => {
        if (running) return;
        const c = lastPod?.status?.conditions?.find((x) => x.type === "PodScheduled");
        if (c?.status === "False") finish({ kind: "unschedulable", message: c.message ?? c.reason ?? "not scheduled" });
        else finish({ kind: "start-timeout", waiting: waitingReason(lastPod) });
      }, s.startTimeoutMs);
      const end = await ended;
      context.clock.clearTimeout(unschedulableTimer);
      context.clock.clearTimeout(startTimer);
      // The pod ended: drain what the channel still holds before the reply and the outcome.
      const drained = route;
      route = undefined;
      await drained?.stop().catch(() => undefined);

      if (end.kind === "killed" || state.killed) return failed(new CancelledError(`${what} was cancelled`));
      if (end.kind === "unschedulable") {
        await deleteJob(name, "Background").catch(() => undefined);
        return { status: "no-capacity", reason: `pod of Job ${name} could not be scheduled ${where} for ${s.unschedulableMs} ms: ${end.message}`, retryAfterMs: s.noCapacityRetryMs, stats: stats() };
      }
      if (end.kind === "start-timeout") {
        await deleteJob(name, "Background").catch(() => undefined);
        return failed(new StartTimeoutError(`[smelter] ${what}: Job ${name}'s pod did not start within ${s.startTimeoutMs} ms ${where} (${end.waiting}): check the image name and pull secrets, and the nodes' state`));
      }
      // Finished: what only Kubernetes knows (OOMKilled, a deadline), else the exit code and the reply.
      const pod = end.pod?.metadata?.name;
      if (end.pod && !running && terminatedState(end.pod)?.startedAt !== undefined) markRunning(end.pod);
      const podWhat = `${what} in pod ${pod ?? `of Job ${name}`}`;
      const pastDeadline = envelope.deadline !== undefined && context.clock.now() >= envelope.deadline;
      const special = kubernetesTermination({ what: podWhat, pod: end.pod, job: end.job, memory: s.memory, retryOutOfMemory: s.retryOutOfMemory, pastDeadline });
      if (special) return failed(withLogTail(special, await logTail(end.pod)), runningAt);
      const exitCode = terminatedState(end.pod)?.exitCode ?? null;
      const outcome = await remoteOutcome({ exitCode, store, remote, listener, where: `pod ${pod ?? `of Job ${name}`} ${where}`, logsWhere: pod ? `its log (kubectl logs -n ${s.namespace} ${pod})` : "its log", stats: () => stats(runningAt) });
      if (outcome.status === "failed" && exitCode !== 0) withLogTail(outcome.error, await logTail(end.pod));
      return outcome;
    } catch (err) {
      return failed(err);
    } finally {
      if (state.killed) await state.kill; // the slot is held until the kill is confirmed or abandoned
      else if (state.created && podEnded) await deleteJob(name, "Background").catch(() => undefined);
      else if (state.created) {
        // The Job ended while its pod may still run (its deadline, a lost pod status): the entry
        // could still write its reply. Wait until the pod is gone before the attempt's objects are
        // removed, so none is written after (bounded by killTimeoutMs; the job's folder is swept at its end).
        await deleteJob(name, "Foreground").catch(() => undefined);
        await waitGone(name, state.gone, s.killTimeoutMs);
      }
      if (tracked) watches.untrack(name);
      await route?.stop().catch(() => undefined);
      await remote?.cleanup();
    }
  }

  return {
    name: NAME,
    maxConcurrency: s.concurrency,
    attach(h: BackendHost) {
      context = h.context;
    },
    launch(envelope, listener): AttemptHandle {
      let markCreateDone!: () => void;
      let markGone!: () => void;
      const state: State = {
        killed: false,
        started: false,
        createDone: new Promise<void>((r) => (markCreateDone = r)),
        markCreateDone: () => markCreateDone(),
        gone: new Promise<void>((r) => (markGone = r)),
        markGone: () => markGone(),
      };
      const attempt = cancellable(limit(() => run(envelope, listener, state)), envelope.attemptId, context.clock);
      return {
        runtimeId: `kube-${++launched}-pending`,
        result: attempt.result,
        kill: (reason) => {
          if (state.kill) return state.kill;
          if (attempt.settled()) return Promise.resolve("stopped" satisfies KillOutcome);
          state.killed = true;
          attempt.cancel(reason);
          state.kill = (async (): Promise<KillOutcome> => {
            if (!state.started) return "stopped"; // still queued: it will end at once when its turn comes
            await state.createDone;
            const name = state.created;
            if (!name) return "stopped";
            try {
              await deleteJob(name, "Foreground");
            } catch {
              state.end?.({ kind: "killed" });
              return "abandoned";
            }
            const gone = await waitGone(name, state.gone, s.killTimeoutMs);
            state.end?.({ kind: "killed" });
            return gone ? "stopped" : "abandoned";
          })();
          return state.kill;
        },
      };
    },
    async check() {
      try {
        await batch.listNamespacedJob({ namespace: s.namespace, limit: 1 });
        await core.readNamespace({ name: s.namespace }).catch((err: unknown) => {
          if (isNotFound(err)) throw err;
        });
      } catch (err) {
        if (isNotFound(err)) throw new ConfigError(`[smelter] namespace "${s.namespace}" not found ${where}: create it (kubectl create namespace ${s.namespace}) or pick another with --kube-namespace`, { cause: err });
        throw kubeApiError(err, `list Jobs in namespace ${s.namespace}`, where);
      }
    },
    async close() {
      closed = true;
      await watches.stop();
      await channel.close();
    },
  };
}

/** The kubeconfig from `kubeconfig` (a file) or the default lookup, at `context` when given. */
function loadKubeConfig(s: ResolvedKubernetesSettings): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (s.kubeconfig) kc.loadFromFile(s.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ConfigError(`[smelter] could not load the kubeconfig${s.kubeconfig ? ` ${s.kubeconfig}` : " (KUBECONFIG, ~/.kube/config or in-cluster)"}: ${(err as Error).message}`, { cause: err });
  }
  if (s.context) {
    if (!kc.getContexts().some((c) => c.name === s.context)) throw new ConfigError(`[smelter] the kubeconfig has no context "${s.context}": use one of ${kc.getContexts().map((c) => c.name).join(", ") || "(none)"}`);
    kc.setCurrentContext(s.context);
  }
  if (!kc.getCurrentCluster()) throw new ConfigError(`[smelter] the kubeconfig names no cluster${s.context ? ` for context ${s.context}` : ""}: give --kubeconfig and --kube-context`);
  return kc;
}

/** The error with the pod log's last lines appended to its message (a SmelterError or its serialized form). */
function withLogTail<E extends { message: string }>(error: E, tail: string): E {
  if (tail) error.message += tail;
  return error;
}

/** What a placed pod is waiting for: its container's waiting reason, else its phase. */
function waitingReason(pod: V1Pod | undefined): string {
  if (!pod) return "no pod was created";
  const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (w) return `${w.reason ?? "waiting"}${w.message ? `: ${w.message}` : ""}`;
  return `phase ${pod.status?.phase ?? "unknown"}${pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : ""}`;
}
