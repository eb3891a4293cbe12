/**
 * The report side of a running job: keeps its events (not logs or heartbeats), and when the job
 * ends prints the cost line (unless --quiet) and writes `--report FILE.html`. The same report
 * feeds the `stages` and `costs` tables of `--output FILE.duckdb`.
 */
import { writeFile } from "node:fs/promises";
import type { SmelterEvent } from "../job/events.js";
import type { Job } from "../scheduler/job.js";
import { costLine } from "../report/cost.js";
import { fromLiveEvents } from "../report/event-input.js";
import { loadEcharts, renderReportHtml } from "../report/html.js";
import { buildJobReport, type JobReport } from "../report/job-report.js";

export class JobReportWatch {
  readonly #events: SmelterEvent[] = [];
  readonly #off: () => void;
  readonly #flags: { quiet: boolean; backend: string; report?: string | undefined; fargateSpot?: boolean | undefined };
  #ended = false;

  constructor(job: Job, flags: { quiet: boolean; backend: string; report?: string | undefined; fargateSpot?: boolean | undefined }) {
    this.#flags = flags;
    this.#off = job.events.on((e) => {
      if (e.type !== "log" && e.type !== "heartbeat") this.#events.push(e);
    });
  }

  /** The report of the events so far. */
  build(): JobReport {
    // Fargate with --fargate-spot is priced at Spot rates (an attempt that fell back to on-demand says so in its running event, and is priced on-demand).
    const backend = this.#flags.backend === "fargate" && this.#flags.fargateSpot ? "fargate-spot" : this.#flags.backend;
    return buildJobReport(fromLiveEvents(this.#events), { backend });
  }

  /** Once, when the job has ended: the cost line on stderr and the --report file. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#off();
    if (this.#events.length === 0 || (this.#flags.quiet && !this.#flags.report)) return; // nothing to print or write
    const report = this.build();
    if (!this.#flags.quiet) process.stderr.write(`${costLine(report.cost)}\n`);
    if (!this.#flags.report) return;
    try {
      await writeFile(this.#flags.report, renderReportHtml(report, await loadEcharts()));
      if (!this.#flags.quiet) process.stderr.write(`[smelter] wrote the job report to ${this.#flags.report}\n`);
    } catch (err) {
      process.stderr.write(`[smelter] could not write the job report to ${this.#flags.report}: ${(err as Error).message}\n`);
    }
  }
}
