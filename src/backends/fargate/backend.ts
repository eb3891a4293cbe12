/**
 * The `fargate` backend: each attempt is one ECS task on AWS Fargate (`RunTask`, launch type
 * FARGATE, or the FARGATE_SPOT capacity provider), whose container runs Smelter's task entry.
 * - The container overrides carry the envelope (`SMELTER_TASK`, or `SMELTER_TASK_URL` when it is
 *   over ECS's 8 KB of overrides: written to object storage first) and the extra environment
 *   (`SMELTER_WORKER_MODULE`, the heartbeat/log channel's). The entry writes its reply (the outcome)
 *   to the envelope's `resultUrl`; the manager reads it once the task is STOPPED, with the exit code.
 * - ThrottlingException and capacity failures (`failures[].reason` "Capacity is unavailable...")
 *   are `no-capacity` outcomes (nothing ran; the scheduler relaunches later without spending the
 *   retry budget) with a jittered delay; a throttle also lowers `maxConcurrency` to what was
 *   running, raised again by one each time a task starts; `host.capacityChanged()` says so.
 * - One DescribeTasks per 100 tasks per poll interval follows every task; the first description
 *   RUNNING is `onRunning({ runtimeId: <task ARN>, cold: true, capacity })` (a Fargate task is always
 *   cold; capacity: the task's cpu and memory and whether it runs on Spot, which the cost estimate prices).
 * - STOPPED: the reply's outcome when there is one; else exit 137 / OutOfMemoryError is
 *   `OutOfMemory`, another exit code is `TaskCrashed`, no start is `TaskFailedToStart`, and an exit 0
 *   with no reply is `ResultMissing`.
 * - `kill`: StopTask, confirmed when DescribeTasks says STOPPED -> "stopped"; unconfirmed within
 *   `stopConfirmMs` -> "abandoned" (its late reply is never taken).
 * - Spot: an interruption (`stopCode: SpotInterruption`) is a retryable `TaskPreempted`; a task
 *   interrupted `spot.fallbackAfterPreemptions` times runs its next attempts on-demand; a Spot task
 *   not running after `spot.startTimeoutMs`, or refused for capacity, is relaunched on-demand at once.
 * Credentials are the SDK's (its default chain, or the `client` given): never in the overrides, a
 * log line or an event.
 */
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, ECSClient, RunTaskCommand, StopTaskCommand, type RunTaskCommandInput, type Task } from "@aws-sdk/client-ecs";
import type { AttemptCapacity, AttemptOutcome, TaskEnvelope } from "../../job/attempt.js";
import { awsErrorFacts, isThrottle } from "../../job/aws-errors.js";
import { CancelledError, ConfigError, serializeError, SmelterError } from "../../job/errors.js";
import { parseOrThrow, retryDelay } from "../../job/policy.js";
import { systemContext, type RuntimeContext } from "../../job/runtime-context.js";
import { emptyStats, type AttemptStats } from "../../job/stats.js";
import { AdaptiveLimit } from "../adaptive-limit.js";
import type { AttemptHandle, AttemptListener, Backend, BackendHost, KillOutcome } from "../contract.js";
import { cancellable } from "../remote/cancellable.js";
import { remoteEnvelope, type RemoteEnvelope } from "../remote/envelope.js";
import type { AttemptChannel } from "../remote/channel.js";
import { lazyChannel } from "../channel-settings.js";
import { remoteOutcome } from "../remote/outcome.js";
import { readRemoteReply } from "../remote/reply.js";
import type { RemoteObjects } from "../remote/store.js";
import { fargateSettingsSchema, type FargateSettings } from "./settings.js";
import { attemptContainer, ecsCallError, isCapacityFailure, stoppedFailure, taskCapacity, wasPreempted } from "./stopped.js";
import { TaskWatcher } from "./watcher.js";

export { fargateSettingsSchema, type FargateSettings } from "./settings.js";

export interface FargateBackendOptions extends FargateSettings {
  /** A configured client (credentials, retries, proxy); `region` and `endpoint` are then ignored. @default a new ECSClient with maxAttempts 1 */
  client?: ECSClient;
  /** Reads and writes staged envelopes and replies by URL (`urlObjects` from smelter/remote-task). */
  objects: RemoteObjects;
  /** More container environment for every task (the worker module, the heartbeat/log channel's settings). Never credentials. */
  environment?: Record<string, string>;
}

/** The store URL when the backend has none: never used, as every envelope then has the job's resultUrl (checked first). */
const NO_STORE = "unused://no-store/";

export type CapacityProvider = "FARGATE" | "FARGATE_SPOT";

export interface FargateBackend extends Backend {
  /** Checks that the cluster is ACTIVE and the task definition has the container (and that the credentials and endpoint work). Throws ConfigError / a clear SmelterError. */
  check(): Promise<{ cluster: string; taskDefinition: string; cpu?: string; memory?: string }>;
  /** Tasks interrupted by Spot and tasks moved to on-demand, since the backend was created. */
  readonly counts: { launched: number; preempted: number; spotFallbacks: number; throttled: number; capacityRefusals: number };
}

/** Creates the Fargate backend. Throws ConfigError on bad options. */
export function fargateBackend(options: FargateBackendOptions): FargateBackend {
  const { client: given, objects, environment, ...settings } = options;
  const o = parseOrThrow(fargateSettingsSchema, settings, "fargate backend options");
  if (!objects || typeof objects.read !== "function") throw new ConfigError("fargate backend options: objects must be { read, write, delete } (urlObjects from smelter/remote-task): replies come back through object storage");
  const client = given ?? new ECSClient({ maxAttempts: 1, ...(o.region ? { region: o.region } : {}), ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const where = `ECS cluster ${o.cluster}${o.endpoint ? ` at ${o.endpoint}` : ""}`;
  const name = o.spot ? "fargate-spot" : "fargate";
  const limit = new AdaptiveLimit(o.concurrency, () => host?.capacityChanged());
  let context: RuntimeContext = systemContext();
  let host: BackendHost | undefined;
  const watcher = new TaskWatcher(client, o.cluster, o.pollIntervalMs, context.clock);
  let launched = 0;
  let closed = false;
  /** Tasks started and not yet seen STOPPED, with their attempt's state. */
  const live = new Map<string, { killReason?: string }>();
  /** Spot interruptions per task (job, stage, task), and tasks that run on-demand from now on. */
  const preemptions = new Map<string, number>();
  const onDemandTasks = new Set<string>();
  const counts = { launched: 0, preempted: 0, spotFallbacks: 0, throttled: 0, capacityRefusals: 0 };
  const channel = lazyChannel(o.channel, objects, () => context);
  /** The attempt is running: said once (by the first RUNNING description, or the first message from the task). */
  const markRunning = (st: AttemptState, listener: AttemptListener, taskArn: string): void => {
    if (st.running || st.killReason) return;
    st.running = true;
    limit.succeeded();
    listener.onRunning({ runtimeId: taskArn, cold: true, ...(st.capacity ? { capacity: st.capacity } : {}) });
  };

  /** The `retry`th delay from `ms`, doubling, drawn in [0.5, 1.5] x (the scheduler's retryDelay). */
  const backoff = (ms: number, retry = 1): number => Math.round(retryDelay({ initialInterval: ms, backoffCoefficient: 2, maxInterval: Infinity, jitter: 0.5 }, retry, context.random));
  const taskKey = (e: TaskEnvelope): string => `${e.jobId}/${e.stage}/${e.task}`;
  const providerFor = (e: TaskEnvelope): CapacityProvider => (o.spot && !onDemandTasks.has(taskKey(e)) ? "FARGATE_SPOT" : "FARGATE");

  function runTaskInput(provider: CapacityProvider, env: Record<string, string>, envelope: TaskEnvelope): RunTaskCommandInput {
    return {
      cluster: o.cluster,
      taskDefinition: o.taskDefinition,
      count: 1,
      ...(provider === "FARGATE_SPOT" ? { capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] } : { launchType: "FARGATE" }),
      ...(o.platformVersion ? { platformVersion: o.platformVersion } : {}),
      startedBy: `smelter-${envelope.jobId}`.slice(0, 36),
      networkConfiguration: { awsvpcConfiguration: { subnets: o.subnets, securityGroups: o.securityGroups, assignPublicIp: o.assignPublicIp ? "ENABLED" : "DISABLED" } },
      overrides: { containerOverrides: [{ name: o.container, environment: Object.entries({ ...environment, ...env }).map(([n, value]) => ({ name: n, value })) }] },
    };
  }

  async function stopTask(taskArn: string, reason: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        await client.send(new StopTaskCommand({ cluster: o.cluster, task: taskArn, reason: reason.slice(0, 1024) }));
        watcher.nudge(taskArn);
        return;
      } catch (err) {
        if (tries >= 3 || !(isThrottle(err) || awsErrorFacts(err).fault === "server")) throw err;
        await context.clock.sleep(backoff(500, tries + 1));
      }
    }
  }

  /** Follows a task until STOPPED (or missing). A Spot task still not running after the start timeout is stopped, and the result says so. */
  function follow(taskArn: string, provider: CapacityProvider, listener: AttemptListener, st: AttemptState): Promise<{ task?: Task; missing?: string; spotTimedOut?: boolean }> {
    const sentAt = context.clock.now();
    let spotTimedOut = false;
    return new Promise((resolve) => {
      const done = (r: { task?: Task; missing?: string }): void => {
        unwatch();
        st.stoppedSeen();
        resolve({ ...r, spotTimedOut });
      };
      const unwatch = watcher.watch(taskArn, {
        onUpdate: (task) => {
          const started = task.startedAt !== undefined || task.lastStatus === "RUNNING";
          if (started) markRunning(st, listener, taskArn);
          if (task.lastStatus === "STOPPED") return done({ task });
          if (provider === "FARGATE_SPOT" && o.spot && !started && !spotTimedOut && !st.killReason && context.clock.now() - sentAt >= o.spot.startTimeoutMs) {
            spotTimedOut = true;
            stopTask(taskArn, `smelter: not running after ${o.spot.startTimeoutMs} ms on Fargate Spot; relaunched on-demand`).catch(() => undefined);
          }
        },
        onMissing: (reason) => done({ missing: reason }),
      });
    });
  }

  interface AttemptState {
    killReason?: string;
    /** RunTask was (or is being) sent. */
    sent: boolean;
    taskArn?: string;
    /** What the current task runs on (its size, Spot or on-demand). */
    capacity?: AttemptCapacity;
    running: boolean;
    /** Resolves when RunTask answered (with or without a task). */
    runTaskDone: Promise<void>;
    markRunTaskDone(): void;
    /** Resolves when the task was seen STOPPED (or missing). */
    stopped: Promise<void>;
    stoppedSeen(): void;
  }

  /** Runs one attempt to its outcome. */
  async function run(envelope: TaskEnvelope, listener: AttemptListener, st: AttemptState): Promise<AttemptOutcome> {
    const launchedAt = context.clock.now();
    const stats = (): AttemptStats => emptyStats(launchedAt, context.clock.now());
    const failed = (err: unknown, s = stats()): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: s });
    const what = `attempt ${envelope.attemptId} (worker "${envelope.worker}")`;
    if (closed) return failed(new CancelledError(`${what} was not started: the ${name} backend was closed`));
    if (!envelope.resultUrl && !o.store) return failed(new ConfigError(`${what} has nowhere to write its reply: give the job a work store (--work s3://bucket/prefix/) or the fargate backend a store`));
    let remote: RemoteEnvelope | undefined;
    let watch: AttemptChannel | undefined;
    try {
      remote = await remoteEnvelope({ envelope, store: { url: o.store ?? NO_STORE, ...objects } });
      const resultUrl = remote.resultUrl;
      // Live heartbeats and log lines: a message from the task also says it runs.
      const onMessage = (): void => (st.taskArn ? markRunning(st, listener, st.taskArn) : undefined);
      watch = (await channel.get())?.watch(envelope.attemptId, resultUrl, {
        onLog: (stream, message) => (onMessage(), listener.onLog(stream, message)),
        onHeartbeat: (details) => (onMessage(), listener.onHeartbeat(details)),
      });
      const env = { ...remote.env, ...watch?.env };
      let provider = providerFor(envelope);
      for (;;) {
        if (st.killReason) return failed(new CancelledError(`${what} was cancelled: ${st.killReason}`));
        st.sent = true;
        let task: Task | undefined;
        try {
          const out = await client.send(new RunTaskCommand(runTaskInput(provider, env, envelope)));
          task = out.tasks?.[0];
          const failure = out.failures?.[0];
          if (!task?.taskArn) {
            const reason = failure ? `${failure.reason ?? "unknown"}${failure.detail ? ` (${failure.detail})` : ""}${failure.arn ? ` [${failure.arn}]` : ""}` : "RunTask started no task and gave no reason";
            if (!isCapacityFailure(reason)) return failed(new ConfigError(`${where} could not run ${what}: ${reason}; check the task definition, subnets and security groups`));
            if (provider === "FARGATE_SPOT") {
              counts.spotFallbacks++;
              listener.onLog("stderr", `[smelter] no Fargate Spot capacity for ${what} (${reason}): running it on-demand (FARGATE)`);
              provider = "FARGATE";
              continue;
            }
            counts.capacityRefusals++;
            return { status: "no-capacity", reason: `${where} has no Fargate capacity: ${reason}`, retryAfterMs: backoff(o.throttleRetryMs), stats: stats() };
          }
        } catch (err) {
          if (isThrottle(err)) {
            counts.throttled++;
            limit.throttled();
            return { status: "no-capacity", reason: `${where} is throttling RunTask (${(err as Error).name}: ${(err as Error).message})`, retryAfterMs: backoff(o.throttleRetryMs), stats: stats() };
          }
          return failed(ecsCallError(err, where, "RunTask"));
        } finally {
          st.markRunTaskDone();
        }
        const taskArn = task.taskArn;
        st.taskArn = taskArn;
        st.capacity = taskCapacity(task, provider === "FARGATE_SPOT");
        counts.launched++;
        live.set(taskArn, st);
        try {
          if (st.killReason) stopTask(taskArn, `smelter: ${st.killReason}`).catch(() => undefined);
          const end = await follow(taskArn, provider, listener, st);
          if (end.spotTimedOut && !st.killReason) {
            counts.spotFallbacks++;
            onDemandTasks.add(taskKey(envelope));
            listener.onLog("stderr", `[smelter] ${what} did not start within ${o.spot?.startTimeoutMs} ms on Fargate Spot (task ${taskArn}): relaunched on-demand (FARGATE)`);
            provider = "FARGATE";
            st.taskArn = undefined;
            continue;
          }
          await watch?.stop(); // what the task sent is delivered before its outcome
          watch = undefined;
          const outcome = await ended(envelope, listener, st, end, remote, what, launchedAt);
          remote = undefined; // ended() cleaned up
          return outcome;
        } finally {
          live.delete(taskArn);
        }
      }
    } catch (err) {
      return failed(err);
    } finally {
      await watch?.stop();
      await remote?.cleanup();
    }
  }

  /** The outcome of a task seen STOPPED (or gone): what only ECS knows first (a kill, Spot, out of memory, no start), then the reply. Cleans up the attempt's objects. */
  async function ended(envelope: TaskEnvelope, listener: AttemptListener, st: AttemptState, end: { task?: Task; missing?: string }, remote: RemoteEnvelope, what: string, launchedAt: number): Promise<AttemptOutcome> {
    const task = end.task;
    const taskWhat = `${what} in ECS task ${st.taskArn}`;
    const taskStats = (): AttemptStats => emptyStats(task?.startedAt?.getTime() ?? launchedAt, task?.stoppedAt?.getTime() ?? context.clock.now());
    const failed = (err: unknown, s?: AttemptStats): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: s ?? taskStats() });
    /** The stats the worker reported, when it managed to (a cooperative cancel, a preemption it saw coming). */
    const reportedStats = async (): Promise<AttemptStats | undefined> => (await readRemoteReply(objects, remote.resultUrl, envelope.attemptId).catch(() => undefined))?.outcome.stats;
    const cleanupAfter = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } finally {
        await remote.cleanup();
      }
    };
    if (st.killReason) return cleanupAfter(reportedStats().then((s) => failed(new CancelledError(`${what} was cancelled: ${st.killReason}`), s)));
    if (!task) return cleanupAfter(Promise.resolve(failed(new SmelterError(`${taskWhat} is no longer known to ECS (${end.missing})`, { type: "TaskLost" }))));
    if (!st.running && task.startedAt) {
      st.running = true;
      listener.onRunning({ runtimeId: task.taskArn ?? "", cold: true, ...(st.capacity ? { capacity: st.capacity } : {}) });
    }
    const known = stoppedFailure(task, o.container, taskWhat);
    if (wasPreempted(task)) {
      counts.preempted++;
      const key = taskKey(envelope);
      const n = (preemptions.get(key) ?? 0) + 1;
      preemptions.set(key, n);
      if (o.spot && n >= o.spot.fallbackAfterPreemptions) onDemandTasks.add(key);
      return cleanupAfter(reportedStats().then((s) => failed(known, s)));
    }
    const exitCode = attemptContainer(task, o.container)?.exitCode;
    if (known && known.type !== "TaskCrashed") return cleanupAfter(Promise.resolve(failed(known))); // out of memory, failed to start
    const outcome = await remoteOutcome({ exitCode: exitCode ?? null, store: objects, remote, listener, where: `ECS task ${task.taskArn}`, logsWhere: `the task's logs (the task definition's log configuration; ECS task ${task.taskArn})`, stats: taskStats });
    if (outcome.status === "succeeded") {
      preemptions.delete(taskKey(envelope));
      onDemandTasks.delete(taskKey(envelope));
    }
    return outcome;
  }

  return {
    name,
    counts,
    get maxConcurrency() {
      return limit.allowed;
    },
    attach(h) {
      host = h;
      context = h.context;
      watcher.setClock(context.clock);
    },
    launch(envelope, listener): AttemptHandle {
      let markRunTaskDone!: () => void;
      let stoppedSeen!: () => void;
      const st: AttemptState = {
        sent: false,
        running: false,
        runTaskDone: new Promise<void>((r) => (markRunTaskDone = r)),
        markRunTaskDone: () => markRunTaskDone(),
        stopped: new Promise<void>((r) => (stoppedSeen = r)),
        stoppedSeen: () => stoppedSeen(),
      };
      const attempt = cancellable(limit.run(() => run(envelope, listener, st)), envelope.attemptId, context.clock);
      let killing: Promise<KillOutcome> | undefined;
      const cancelNow = attempt.cancel;
      return {
        runtimeId: `fargate-${++launched}-pending`,
        result: attempt.result,
        kill: (reason) => {
          if (attempt.settled()) return Promise.resolve("stopped");
          killing ??= (async (): Promise<KillOutcome> => {
            st.killReason = reason;
            if (!st.sent) {
              cancelNow(reason); // still queued: it never runs
              return "stopped";
            }
            await st.runTaskDone;
            const taskArn = st.taskArn;
            if (!taskArn) return "stopped"; // RunTask started nothing
            try {
              await stopTask(taskArn, `smelter: ${reason}`);
            } catch (err) {
              cancelNow(`${reason} (StopTask of ${taskArn} failed: ${(err as Error).message}; the task was left to run, its result will not be taken)`);
              return "abandoned";
            }
            const bound = new AbortController();
            const confirmed = await Promise.race([st.stopped.then(() => true), context.clock.sleep(o.stopConfirmMs, bound.signal).then(() => false, () => true)]);
            bound.abort();
            if (confirmed) return "stopped";
            cancelNow(`${reason} (task ${taskArn} was not seen STOPPED within ${o.stopConfirmMs} ms; its result will not be taken)`);
            return "abandoned";
          })();
          return killing;
        },
      };
    },
    async check() {
      let clusters;
      let definition;
      try {
        clusters = await client.send(new DescribeClustersCommand({ clusters: [o.cluster] }));
      } catch (err) {
        throw ecsCallError(err, where, "DescribeClusters");
      }
      const cluster = clusters.clusters?.find((c) => c.status === "ACTIVE");
      if (!cluster?.clusterArn) throw new ConfigError(`${where} does not exist or is not ACTIVE (${clusters.failures?.map((f) => f.reason).join(", ") || clusters.clusters?.[0]?.status || "not found"}): create it (docs/backends/fargate.md) or fix the cluster name and region`);
      try {
        definition = (await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: o.taskDefinition }))).taskDefinition;
      } catch (err) {
        const e = ecsCallError(err, where, "DescribeTaskDefinition");
        if (e instanceof ConfigError) throw new ConfigError(`the task definition ${o.taskDefinition} is not registered in ${o.region ?? "this region"} (${(err as Error).message}): register one (smelter's generated task definition, docs/backends/fargate.md) or fix the name`, { cause: err });
        throw e;
      }
      const names = definition?.containerDefinitions?.map((c) => c.name) ?? [];
      if (!names.includes(o.container)) throw new ConfigError(`the task definition ${o.taskDefinition} has no container named "${o.container}" (it has ${names.join(", ") || "none"}): set the container (--fargate-container) to the one that runs bin/smelter-task.js`);
      return { cluster: cluster.clusterArn, taskDefinition: definition?.taskDefinitionArn ?? o.taskDefinition, ...(definition?.cpu ? { cpu: definition.cpu } : {}), ...(definition?.memory ? { memory: definition.memory } : {}) };
    },
    async close() {
      if (closed) return;
      closed = true; // queued attempts end as Cancelled without being started
      // Nothing left behind: tasks still running are stopped (best effort).
      await Promise.all(
        [...live].map(([arn, st]) => {
          st.killReason ??= "the backend was closed";
          return stopTask(arn, "smelter: the backend was closed").catch(() => undefined);
        }),
      );
      watcher.close(); // attempts still followed end as Cancelled
      await channel.close();
      if (!given) client.destroy();
    },
  };
}
