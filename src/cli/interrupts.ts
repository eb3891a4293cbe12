/**
 * Ctrl-C (SIGINT) and SIGTERM for the commands that run jobs, for the whole command (listing,
 * the job, the coordinator's final merge and output write, the cleanup):
 * - the first signal aborts `interrupts.signal`: the running job is cancelled (every attempt
 *   stopped), the driver stops at its next step, and everything the job made is removed; the
 *   command then exits 130 (SIGINT) or 143 (SIGTERM), as shells expect (128 + the signal number);
 * - a second signal exits at once with the same code, after saying what was left behind and
 *   the `smelter clean` command that removes it (src/cli/leftovers.ts).
 */
import { CancelledError } from "../job/errors.js";
import { temporaries } from "../job/temporaries.js";
import { keepRecord, leftoversMessage } from "./leftovers.js";

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

class Interrupts {
  #controller = new AbortController();
  #received: HandledSignal | undefined;
  #armed = false;
  #jobId: string | undefined;
  #stopRecord: (() => void) | undefined;
  #reason = "";

  /** Aborted by the first SIGINT or SIGTERM (its reason a CancelledError). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The exit code of the signal received (130 or 143), or undefined. */
  exitCode(): number | undefined {
    return this.#received ? SIGNAL_EXIT_CODES[this.#received] : undefined;
  }

  /** Handles SIGINT and SIGTERM from now until the process ends (idempotent). */
  arm(stream: NodeJS.WritableStream = process.stderr): void {
    if (this.#armed) return;
    this.#armed = true;
    const handler = (signal: HandledSignal) => {
      if (this.#received) {
        stream.write(`\n[smelter] second ${signal}: exiting now, without waiting for the cleanup\n`);
        const left = leftoversMessage(this.#jobId);
        if (left) stream.write(`${left}\n`);
        process.exit(SIGNAL_EXIT_CODES[this.#received]);
      }
      this.#received = signal;
      const key = signal === "SIGINT" ? "Ctrl-C" : "SIGTERM";
      stream.write(`\n[smelter] ${signal}: ${this.#jobId ? `cancelling job ${this.#jobId}` : "stopping"}: every worker stops, then what the job made is removed (${key} again to exit at once)\n`);
      this.#reason = signal === "SIGINT" ? "interrupted (Ctrl-C)" : "received SIGTERM";
      this.#controller.abort(new CancelledError(`[smelter] the command was stopped: ${this.#reason}`));
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  }

  /** The job this command runs: its record of temporaries is kept from now on, and an interrupt cancels it. */
  watchJob(job: { id: string; cancel(reason?: string): Promise<void> }): void {
    this.#jobId = job.id;
    this.#stopRecord?.();
    this.#stopRecord = keepRecord(job.id);
    const cancel = () => void job.cancel(this.#reason);
    if (this.signal.aborted) cancel();
    else this.signal.addEventListener("abort", cancel, { once: true });
  }

  /**
   * Also on the first signal: `stop()` (a manager's close: every worker of the backend stopped),
   * at once, not after the job's cleanup; the command still calls it at its end.
   */
  stopWith(stop: () => Promise<void>): void {
    // After the job's own cancel (a listener added later), so the job says why it stopped.
    const run = () => queueMicrotask(() => void stop().catch(() => undefined));
    if (this.signal.aborted) run();
    else this.signal.addEventListener("abort", run, { once: true });
  }

  /** Throws the CancelledError when a signal was received. */
  throwIfInterrupted(): void {
    if (this.signal.aborted) throw this.signal.reason as Error;
  }

  /** When the command ends: what could not be removed, with the `smelter clean` command, or undefined. */
  leftovers(): string | undefined {
    return leftoversMessage(this.#jobId, temporaries.list());
  }
}

/** This process's interrupts. */
export const interrupts = new Interrupts();
