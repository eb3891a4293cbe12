/**
 * What a person sees while a job runs, on stderr: live per-stage bars on a TTY (tasks done,
 * running, failed, retried, speculated), or one status line every few seconds otherwise.
 * Also: the `--events FILE` JSON-lines writer (Ctrl-C and SIGTERM: interrupts.ts).
 */
import cliProgress from "cli-progress";
import { repeat } from "../job/clock.js";
import type { StageCounts } from "../job/events.js";
import type { Job } from "../scheduler/job.js";

export interface ProgressOptions {
  /** @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Live bars (true) or periodic status lines (false). @default stream.isTTY */
  tty?: boolean;
  /** Period of status lines when not on a TTY, ms. @default 3000 */
  intervalMs?: number;
  /** Print workers' log lines. @default false */
  verbose?: boolean;
}

export interface Progress {
  /** Stops drawing and prints the final state. */
  stop(): void;
}

/** Shows a job's progress until it is done (or `stop()` is called). */
export function showProgress(job: Job, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  return tty ? barProgress(job, stream, options) : lineProgress(job, stream, options);
}

function barProgress(job: Job, stream: NodeJS.WriteStream, options: ProgressOptions): Progress {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      fps: 8,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
      format: "{stage} [{bar}] {value}/{total}{open} | {running} running | {failed} failed | {retried} retried | {speculated} speculated | {duration_formatted}",
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  const width = () => Math.max(8, ...job.stages.map((s) => s.name.length));
  const draw = () => {
    for (const stage of job.stages) {
      let bar = bars.get(stage.number);
      const payload = { stage: stage.name.padEnd(width()), ...countsPayload(stage.counts) };
      if (!bar) {
        bar = multi.create(Math.max(1, stage.counts.total), stage.counts.succeeded, payload);
        bars.set(stage.number, bar);
      }
      bar.setTotal(Math.max(1, stage.counts.total));
      bar.update(stage.counts.succeeded + stage.counts.failed, payload);
    }
  };
  const off = job.events.on((e) => {
    if (options.verbose && e.type === "log") multi.log(`${e.attemptId} ${e.stream}: ${e.message}\n`);
    if (e.type === "retry-scheduled") multi.log(`retry ${e.taskId} in ${Math.round(e.delayMs)} ms: ${e.reason.name}: ${firstLine(e.reason.message)}\n`);
    draw();
    if (e.type === "job-done") stop();
  });
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    off();
    draw();
    multi.stop();
  }
  draw();
  return { stop };
}

function lineProgress(job: Job, stream: NodeJS.WriteStream, options: ProgressOptions): Progress {
  const clock = job.context.clock;
  const started = clock.now();
  const print = () => stream.write(`[smelter] ${job.id} ${((clock.now() - started) / 1000).toFixed(1)}s ${statusLine(job)}\n`);
  const stopTimer = repeat(clock, options.intervalMs ?? 3000, print, { unref: true });
  const off = job.events.on((e) => {
    if (options.verbose && e.type === "log") stream.write(`${e.attemptId} ${e.stream}: ${e.message}\n`);
    if (e.type === "retry-scheduled") stream.write(`[smelter] retry ${e.taskId} in ${Math.round(e.delayMs)} ms: ${e.reason.name}: ${firstLine(e.reason.message)}\n`);
    if (e.type === "job-done") stop();
  });
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    stopTimer();
    off();
    print();
  }
  return { stop };
}

/** `map 40/100 done, 8 running, 0 failed, 2 retried, 1 speculated | reduce ...` */
export function statusLine(job: Job): string {
  return job.stages
    .map((s) => {
      const c = s.counts;
      return `${s.name} ${c.succeeded}/${c.total}${c.closed ? "" : "+"} done, ${c.running} running, ${c.failed} failed, ${c.retried} retried, ${c.speculated} speculated`;
    })
    .join(" | ");
}

function countsPayload(c: StageCounts) {
  return { running: c.running, failed: c.failed, retried: c.retried, speculated: c.speculated, open: c.closed ? "" : "+" };
}

function firstLine(s: string): string {
  return s.split("\n", 1)[0] ?? "";
}

export { writeEventsFile } from "../report/events-file.js";
