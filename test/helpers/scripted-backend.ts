/**
 * A backend for scheduler tests: each attempt follows a script on a VirtualClock (pending time,
 * run time, heartbeats, outcome, how long a kill takes, whether it can be killed at all, whether
 * the backend has capacity). It records launches, kills and the peak number of attempts running
 * at once. The real backends have their own conformance suite.
 */
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, BackendHost, KillOutcome, TaskEnvelope } from "../../src/backends/contract.js";
import type { SerializedError } from "../../src/job/errors.js";
import type { AttemptStats } from "../../src/job/stats.js";
import type { Clock } from "../../src/scheduler/clock.js";

export interface Script {
  /** Time before the attempt reports running. @default 0 */
  pendingMs?: number;
  /** Time from running to the outcome; Infinity hangs until killed. @default 10 */
  runMs?: number;
  /** The output on success. @default the input */
  output?: unknown;
  /** Fail with this error instead. */
  error?: Partial<SerializedError>;
  /** Send a heartbeat this often while running (details: `{ at }`, or `heartbeatDetails(n)`). */
  heartbeatEveryMs?: number;
  heartbeatDetails?: (n: number) => unknown;
  /** How long a kill takes to be confirmed. @default 0 */
  killDelayMs?: number;
  /** The backend cannot stop this attempt (a Lambda invocation): kill() says "abandoned" and the attempt runs on to its outcome. */
  unkillable?: boolean;
  /** The backend has no capacity: the launch ends as no-capacity after `pendingMs`, with this reason. */
  noCapacity?: string;
  /** Counters reported in the stats. */
  counters?: Record<string, number>;
  /** Reports `outputUrl` instead of the output (the attempt "wrote" it to its resultUrl). */
  viaResultUrl?: boolean;
}

export interface LaunchRecord {
  envelope: TaskEnvelope;
  at: number;
  killedAt?: number;
  killReason?: string;
  stoppedAt?: number;
}

export class ScriptedBackend implements Backend {
  readonly name = "scripted";
  readonly launches: LaunchRecord[] = [];
  running = 0;
  peakRunning = 0;
  /** The host the manager attached (its context and capacityChanged). */
  host: BackendHost | undefined;
  #maxConcurrency: number | undefined;
  #clock: Clock;
  #script: (e: TaskEnvelope) => Script;

  constructor(clock: Clock, script: (e: TaskEnvelope) => Script, maxConcurrency?: number) {
    this.#clock = clock;
    this.#script = script;
    this.#maxConcurrency = maxConcurrency;
  }

  get maxConcurrency(): number | undefined {
    return this.#maxConcurrency;
  }

  /** Changes the concurrency (as a throttled backend would) and tells the manager. */
  setMaxConcurrency(n: number | undefined): void {
    this.#maxConcurrency = n;
    this.host?.capacityChanged();
  }

  attach(host: BackendHost): void {
    this.host = host;
  }

  launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
    const clock = this.#clock;
    const script = this.#script(envelope);
    const record: LaunchRecord = { envelope, at: clock.now() };
    this.launches.push(record);
    const n = this.launches.length;
    this.running++;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    const timers: ReturnType<Clock["setTimeout"]>[] = [];
    let settle!: (o: AttemptOutcome) => void;
    let done = false;
    const result = new Promise<AttemptOutcome>((r) => (settle = r));
    const finish = (o: AttemptOutcome) => {
      if (done) return;
      done = true;
      for (const t of timers) clock.clearTimeout(t);
      this.running--;
      record.stoppedAt = clock.now();
      settle(o);
    };
    const stats = (): AttemptStats => ({
      wallMs: clock.now() - record.at, cpuUserMs: 0, cpuSystemMs: 0, peakRssBytes: 0,
      loadAvg: { mean: 0, max: 0 }, counters: { ...script.counters }, startedAt: record.at, endedAt: clock.now(),
    });
    timers.push(clock.setTimeout(() => {
      if (script.noCapacity) return finish({ status: "no-capacity", reason: script.noCapacity });
      listener.onRunning({ runtimeId: `scripted-${n}-run`, cold: n === 1 });
      const beat = script.heartbeatEveryMs;
      if (beat) {
        let beats = 0;
        const tick = () => {
          beats++;
          listener.onHeartbeat(script.heartbeatDetails ? script.heartbeatDetails(beats) : { at: clock.now() });
          timers.push(clock.setTimeout(tick, beat));
        };
        timers.push(clock.setTimeout(tick, beat));
      }
      const runMs = script.runMs ?? 10;
      if (Number.isFinite(runMs)) {
        timers.push(clock.setTimeout(() => {
          if (script.error) {
            finish({ status: "failed", error: { name: "Error", type: "Error", message: "scripted failure", nonRetryable: false, ...script.error }, stats: stats() });
          } else if (script.viaResultUrl) {
            finish({ status: "succeeded", output: undefined, outputUrl: envelope.resultUrl ?? "mem://no-results-store/out.json", stats: stats() });
          } else {
            finish({ status: "succeeded", output: script.output ?? envelope.input, stats: stats() });
          }
        }, runMs));
      }
    }, script.pendingMs ?? 0));
    return {
      runtimeId: `scripted-${n}`,
      result,
      kill: (reason: string) => {
        record.killedAt ??= clock.now();
        record.killReason ??= reason;
        if (script.unkillable) return Promise.resolve<KillOutcome>("abandoned");
        return new Promise<KillOutcome>((resolve) => {
          const stop = () => {
            finish({ status: "failed", error: { name: "CancelledError", type: "Cancelled", message: reason, nonRetryable: true }, stats: stats() });
            resolve("stopped");
          };
          if (done) return resolve("stopped");
          if (script.killDelayMs) clock.setTimeout(stop, script.killDelayMs);
          else stop();
        });
      },
    };
  }

  /** Launch records of one task (by index and stage). */
  of(task: number, stage = 1): LaunchRecord[] {
    return this.launches.filter((l) => l.envelope.task === task && l.envelope.stage === stage);
  }
}
