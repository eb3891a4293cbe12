/**
 * `smelter report <events file> [--output FILE.html] [--prices FILE.json] [--backend NAME]`:
 * rebuilds a job's report from its `--events` file alone and writes it as one self-contained
 * HTML file (opens from disk, no network). Prints where it went and the job's cost line.
 * `--otlp URL` also exports the job's trace, rebuilt from the events, to an OTLP/HTTP endpoint.
 */
import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { costLine } from "../report/cost.js";
import type { SmelterEvent } from "../job/events.js";
import { exportEventsTrace, tracingConfig } from "../observability/job-tracing.js";
import { backendOf, readEventsFile } from "../report/event-input.js";
import { loadEcharts, renderReportHtml } from "../report/html.js";
import { buildJobReport } from "../report/job-report.js";
import { DEFAULT_PRICES, readPriceFile } from "../report/prices.js";
import { parseFlags } from "./common.js";

/** Backends a report can price: Lambda and Fargate (Spot) by their prices, the others as local (0). */
const REPORT_BACKENDS = ["inline", "threads", "processes", "remote", "kubernetes", "lambda", "fargate", "fargate-spot"] as const;

export const reportFlagsSchema = z.object({
  events: z.string().min(1),
  output: z.string().min(1).regex(/\.html?$/i, "--output must end in .html").optional(),
  prices: z.string().min(1).optional(),
  backend: z.enum(REPORT_BACKENDS, { message: `--backend must be one of ${REPORT_BACKENDS.join(", ")}` }).optional(),
  quiet: z.boolean().default(false),
  otlp: z.string().min(1).optional(),
});
export type ReportFlags = z.output<typeof reportFlagsSchema>;

export function register(program: Command): void {
  program
    .command("report")
    .description("Write a job's report (timeline of every attempt, stages, critical path, cost, failures) as one HTML file, from its --events file")
    .argument("<events>", "the events file a job wrote with --events FILE")
    .option("--output <file.html>", "where the report goes (default: the events file's name with .html)")
    .option("--prices <file.json>", "override the price table (any of lambda.*, fargate.*, s3.*; see docs/report.md)")
    .option("--backend <name>", "the backend the job ran on, when the events do not say (lambda, fargate, fargate-spot price it; local ones cost 0)")
    .option("--otlp <url>", "also export the job's trace (job, stage, attempt and storage-call spans), rebuilt from the events, to this OTLP/HTTP endpoint")
    .option("-q, --quiet", "print nothing but errors")
    .action(async (events: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(reportFlagsSchema, { ...raw, events });
      const { path, line } = await writeReport(flags);
      if (!flags.quiet) process.stderr.write(`[smelter] wrote ${path} (open it in a browser; it needs no network)\n${line}\n`);
      const otlp = flags.otlp === undefined ? undefined : tracingConfig(flags.otlp, {});
      if (otlp) {
        const input = await readEventsFile(flags.events);
        let failed = false;
        const warn = (m: string) => {
          failed = true;
          process.stderr.write(`[smelter] warning: ${m}\n`);
        };
        const backend = flags.backend ?? backendOf(input.events);
        const r = await exportEventsTrace(input.events as SmelterEvent[], otlp, { warn, ...(backend ? { backend } : {}) });
        if (!flags.quiet && !failed) process.stderr.write(`[smelter] exported the job's trace (${r.spans} spans, trace id ${r.traceId}) to ${otlp.url}\n`);
      }
    });
}

/** Builds the report of `flags.events` and writes it; returns where, and the job's cost line. */
export async function writeReport(flags: ReportFlags): Promise<{ path: string; line: string }> {
  const [input, prices, echarts] = await Promise.all([readEventsFile(flags.events), flags.prices ? readPriceFile(flags.prices) : DEFAULT_PRICES, loadEcharts()]);
  const report = buildJobReport(input, { prices, ...(flags.backend ? { backend: flags.backend } : {}) });
  const path = flags.output ?? `${flags.events.replace(/\.(jsonl|ndjson|json|events|log)$/i, "")}.html`;
  try {
    await writeFile(path, renderReportHtml(report, echarts));
  } catch (err) {
    throw new ConfigError(`cannot write the report to ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { path, line: costLine(report.cost) };
}
