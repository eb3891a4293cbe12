/**
 * A backend for scheduler tests: each attempt follows a script on a VirtualClock (pending time,
 * run time, heartbeats, outcome, how long a kill takes). It records launches, kills and the
 * peak number of attempts running at once. The real backends have their own conformance suite.
 */
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, TaskEnvelope } from "../../src/backends/contract.js";
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
  /** Send a heartbeat this often while running. */
  heartbeatEveryMs?: number;
  /** How long a kill takes to be confirmed. @default 0 */
  killDelayMs?: number;
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
  readonly maxConcurrency: number | undefined;
  #clock: Clock;
  #script: (e: TaskEnvelope) => Script;

  constructor(clock: Clock, script: (e: TaskEnvelope) => Script, maxConcurrency?: number) {
    this.#clock = clock;
    this.#script = script;
    this.maxConcurrency = maxConcurrency;
  }

  launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
    const clock = this.#clock;
    const script = this.#script(envelope);
    const record: LaunchRecord = { envelope, at: clock.now() };
    this.launches.push(record);
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
      loadAvg: { mean: 0, max: 0 }, counters: {}, startedAt: record.at, endedAt: clock.now(),
    });
    timers.push(clock.setTimeout(() => {
      listener.onRunning();
      const beat = script.heartbeatEveryMs;
      if (beat) {
        const tick = () => {
          listener.onHeartbeat({ at: clock.now() });
          timers.push(clock.setTimeout(tick, beat));
        };
        timers.push(clock.setTimeout(tick, beat));
      }
      const runMs = script.runMs ?? 10;
      if (Number.isFinite(runMs)) {
        timers.push(clock.setTimeout(() => {
          if (script.error) {
            finish({ status: "failed", error: { name: "Error", type: "Error", message: "scripted failure", nonRetryable: false, ...script.error }, stats: stats() });
          } else {
            finish({ status: "succeeded", output: script.output ?? envelope.input, stats: stats() });
          }
        }, runMs));
      }
    }, script.pendingMs ?? 0));
    return {
      runtimeId: `scripted-${this.launches.length}`,
      result,
      kill: (reason: string) => {
        record.killedAt ??= clock.now();
        record.killReason ??= reason;
        return new Promise<void>((resolve) => {
          const stop = () => {
            finish({ status: "failed", error: { name: "CancelledError", type: "Cancelled", message: reason, nonRetryable: true } });
            resolve();
          };
          if (done) return resolve();
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
