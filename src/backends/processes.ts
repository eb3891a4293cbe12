/**
 * The `processes` backend: a pool of warm child processes (child_process.fork with advanced
 * serialization). Processes start lazily and stay warm until `close()`; each runs one attempt at
 * a time. Their stdout/stderr reach the listener line by line as `onLog("stdout" | "stderr")`.
 * A kill aborts the attempt's signal, and after `killGraceMs` sends SIGTERM, then SIGKILL after
 * another `killGraceMs`; it resolves once the process has exited. A process that exits or is
 * killed by a signal mid-attempt is a retryable `TaskCrashed` failure naming the exit code or
 * signal and the last stderr lines; one that runs out of heap is an `OutOfMemory` failure.
 */
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import type { Clock, TimerHandle } from "../job/runtime-context.js";
import { STDIO_END_MARKER, type FromWorkerMessage } from "../task-runtime/runtime.js";
import type { Backend } from "./contract.js";
import { checkScript, createLocalPool, resolveEntry, type PoolWorker, type PoolWorkerEvents } from "./local-pool.js";

export const processesOptionsSchema = z.strictObject({
  /**
   * The module that registers the workers with `defineWorker` at its top level, imported by each
   * process: a file path or a `file://` URL. Your main script may be it if it calls `runMain`.
   * @default process.argv[1] (the main script)
   */
  entry: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  /**
   * A script each process runs instead of Smelter's bootstrap importing `entry`: one that registers
   * the workers and then serves tasks as the bootstrap does, e.g. a one-file bundle of both, which
   * starts faster. The command line forks such a bundle of its built-in workers
   * (src/builtin-workers/pool-process.ts). @default the bootstrap (task-runtime/bootstrap-process.js), importing `entry`
   */
  script: z.string().min(1).optional(),
  /** Processes in the pool, which is also how many attempts run at once. @default os.availableParallelism() */
  workers: z.number().int().min(1).optional(),
  /** Heap limit of each process in MiB (`--max-old-space-size`); beyond it the attempt fails with `OutOfMemory`. @default no limit (V8's default) */
  maxMemoryMb: z.number().int().min(8).optional(),
  /** Node options of the children. @default the manager's process.execArgv without --inspect, --test and --watch flags */
  execArgv: z.array(z.string()).optional(),
  /** Extra environment variables of the children, on top of the manager's. @default {} */
  env: z.record(z.string(), z.string()).default({}),
  /** After a kill, how long to wait before SIGTERM (the attempt sees its signal aborted), and again before SIGKILL. @default 500 */
  killGraceMs: z.number().int().min(0).default(500),
});
export type ProcessesBackendOptions = z.input<typeof processesOptionsSchema>;

export const NAME = "processes";

const BOOTSTRAP = fileURLToPath(new URL("../task-runtime/bootstrap-process.js", import.meta.url));
const STDERR_TAIL_LINES = 12;
const OOM_RE = /heap out of memory|Reached heap limit|Allocation failed/i;

/** Creates a child-process pool backend. Throws ConfigError on bad options. */
export function processesBackend(options: ProcessesBackendOptions = {}): Backend {
  const opts = parseOrThrow(processesOptionsSchema, options, `${NAME} backend options`);
  const entry = resolveEntry(opts.entry, NAME);
  checkScript(opts.script, NAME);
  const execArgv = [...(opts.execArgv ?? inheritedExecArgv())];
  if (opts.maxMemoryMb) execArgv.push(`--max-old-space-size=${opts.maxMemoryMb}`);
  const env = { ...process.env, ...opts.env, SMELTER_TASK: "pool" };
  return createLocalPool({
    name: NAME,
    size: opts.workers ?? availableParallelism(),
    killGraceMs: opts.killGraceMs,
    spawn: (events, clock) => startProcess(events, clock, { script: opts.script ?? BOOTSTRAP, args: opts.script ? [] : [entry], execArgv, env, killGraceMs: opts.killGraceMs, maxMemoryMb: opts.maxMemoryMb }),
  });
}

interface StartOptions {
  /** The script to fork and its arguments: the bootstrap and the entry, or a `script` that serves tasks itself. */
  script: string;
  args: string[];
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  killGraceMs: number;
  maxMemoryMb: number | undefined;
}

function startProcess(events: PoolWorkerEvents, clock: Clock, o: StartOptions): PoolWorker {
  const child = fork(o.script, o.args, { serialization: "advanced", stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv: o.execArgv, env: o.env });
  const runtimeId = `pid-${child.pid ?? "unknown"}`;
  const stderrTail: string[] = [];
  let outOfMemory = false;
  let spawnError: Error | undefined;
  const stdio = Promise.all([
    readLines(child.stdout!, (line) => events.line("stdout", line)),
    readLines(child.stderr!, (line) => {
      if (OOM_RE.test(line)) outOfMemory = true;
      if (line.includes(STDIO_END_MARKER)) stderrTail.length = 0; // an attempt ended: keep only the next one's lines
      else if (isTelling(line)) stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      events.line("stderr", line);
    }),
  ]);
  child.on("message", (m: FromWorkerMessage) => events.message(m));
  child.on("error", (err) => (spawnError ??= err));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      let timer: TimerHandle | undefined;
      void Promise.race([stdio, new Promise((r) => (timer = clock.setTimeout(() => r(undefined), 500)))]).then(() => {
        clock.clearTimeout(timer);
        let description = spawnError ? `could not run (${spawnError.message})` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        if (outOfMemory) description = `ran out of JavaScript heap${o.maxMemoryMb ? ` (--max-old-space-size=${o.maxMemoryMb})` : ""} and ${description}`;
        events.exit({ outOfMemory, description, stderrTail: stderrTail.slice(), details: { exitCode: code, signal } });
        resolve();
      });
    });
  });
  return {
    runtimeId,
    stdioEndMarkers: true,
    send: (message) => {
      if (child.connected) child.send(message, undefined, {}, () => {});
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = clock.setTimeout(() => child.kill("SIGKILL"), o.killGraceMs);
        await exited;
        clock.clearTimeout(timer);
      }
      await exited;
    },
    ref: () => setRef(child, true),
    unref: () => setRef(child, false),
  };
}

function setRef(child: ChildProcess, on: boolean): void {
  type Refable = { ref?: () => void; unref?: () => void } | null | undefined;
  for (const h of [child, child.channel, child.stdout, child.stderr] as Refable[]) {
    if (on) h?.ref?.();
    else h?.unref?.();
  }
}

/** Lines worth quoting in a crash message: not blank, not an end marker, not a native stack frame. */
function isTelling(line: string): boolean {
  return line.trim() !== "" && !/^\s*\d+: 0x[0-9a-f]+ /.test(line) && !line.startsWith("----- Native stack");
}

/** Node options that take the program's code as their next argument (`node -e CODE`). */
const CODE_OPTIONS = new Set(["-e", "--eval", "-p", "--print", "-pe", "-ep"]);

/**
 * The manager's Node options minus those that must not reach a worker: debugger ports, the test
 * runner, watch mode, and the manager's own program given as code (`node -e`/`-p`, `--eval=`,
 * `--input-type`), which a forked worker would run instead of its bootstrap (and fork again).
 */
export function inheritedExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (CODE_OPTIONS.has(a)) i++;
    else if (!/^--(inspect|debug|test|experimental-test|watch|input-type|eval=|print=)/.test(a)) kept.push(a);
  }
  return kept;
}
/** Calls `onLine` for each line of `stream`; resolves when it ends. */
function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on("line", onLine);
  return new Promise<void>((resolve) => rl.once("close", resolve));
}
