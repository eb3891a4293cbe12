/**
 * The job report as one self-contained HTML file: tables drawn here from a {@link JobReport},
 * charts drawn in the page by ECharts (its minified build inlined from node_modules, so the file
 * opens from disk with no network) and html-client.ts. A thin view: every number comes from
 * job-report.ts and the modules it calls.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { COMPUTE_PLACES, usd, type ComputePlace } from "./cost.js";
import { CLIENT_JS, TIMELINE_JS } from "./html-client.js";
import type { JobReport } from "./job-report.js";
import { bytes, seconds } from "./job-stats.js";
import type { AttemptOutcome } from "./timeline.js";

export const OUTCOME_COLORS: Record<AttemptOutcome, string> = {
  won: "#4e79a7",
  succeeded: "#a0cbe8",
  failed: "#e15759",
  lost: "#bab0ac",
  cancelled: "#79706e",
  abandoned: "#8b1a89",
  "no-capacity": "#d4a6c8",
  unfinished: "#f28e2b",
};
export const STAGE_COLORS = ["#4e79a7", "#59a14f", "#9c755f", "#76b7b2", "#edc948", "#b07aa1", "#1f77b4", "#2ca02c"];
const OUTCOME_HELP: Record<AttemptOutcome, string> = {
  won: "won (its result was used; colored by stage)",
  succeeded: "succeeded after another attempt had won",
  failed: "failed",
  lost: "lost the race (cancelled: another attempt won)",
  cancelled: "cancelled",
  abandoned: "abandoned (kill never confirmed)",
  "no-capacity": "no capacity (the backend refused the launch; retried without spending the retry budget)",
  unfinished: "no ending in the events",
};
const PLACE_NAMES: Record<ComputePlace, string> = { local: "local workers", lambda: "AWS Lambda", fargate: "AWS Fargate", "fargate-spot": "AWS Fargate Spot", kubernetes: "your Kubernetes cluster" };

/** The minified ECharts build from node_modules, inlined into every report. */
export async function loadEcharts(): Promise<string> {
  const require = createRequire(import.meta.url);
  return readFile(require.resolve("echarts/dist/echarts.min.js"), "utf8");
}

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

const secs = seconds;
const num = (n: number) => n.toLocaleString("en-US");

/** What the page's script draws the charts from. */
export function chartData(r: JobReport) {
  const critical = new Set(r.criticalPath.map((s) => s.attemptId));
  const stageIndex = new Map(r.stages.map((s, i) => [s.stage, i]));
  return {
    colors: OUTCOME_COLORS,
    stageColors: STAGE_COLORS,
    durationMs: Math.max(1, r.end - r.start),
    lanes: r.timeline.lanes,
    attempts: r.timeline.attempts.map((a) => ({
      id: a.attemptId,
      short: a.attemptId.split("-").slice(-2).join("-"),
      task: a.taskId,
      stageName: a.stageName,
      stageIndex: stageIndex.get(a.stage) ?? 0,
      cause: a.cause,
      ...(a.rule ? { rule: a.rule } : {}),
      ...(a.duplicateOf ? { dup: a.duplicateOf } : {}),
      outcome: a.outcome,
      runtime: a.runtimeId,
      lane: a.lane,
      launched: a.launchedAt - r.start,
      running: a.runningAt === undefined ? null : a.runningAt - r.start,
      ended: a.endedAt - r.start,
      ...(a.error ? { error: `${a.error.name}: ${a.error.message}` } : {}),
      ...(a.reason ? { reason: a.reason } : {}),
      ...(a.counters.bytesRead ? { bytesRead: a.counters.bytesRead } : {}),
      ...(critical.has(a.attemptId) ? { critical: true } : {}),
    })),
    histograms: r.stages.map((s, i) => ({
      name: `${s.name}: task durations`,
      stageIndex: i,
      labels: s.histogram.edges.slice(0, -1).map((e, j) => `${trim(e / 1000)}-${trim(s.histogram.edges[j + 1]! / 1000)}`),
      counts: s.histogram.counts,
    })),
    series: r.series,
  };
}

function trim(x: number): string {
  return String(Number(x.toPrecision(3)));
}

function table(id: string, head: string[], rows: string[][], attrs: (i: number) => string = () => ""): string {
  return `<div class="scroll"><table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r, i) => `<tr${attrs(i)}>${r.join("")}</tr>`).join("")}</tbody></table></div>`;
}
const td = (key: string, value: string, raw?: string | number) => `<td data-k="${key}"${raw === undefined ? "" : ` data-v="${esc(raw)}"`}>${value}</td>`;

function stagesTable(r: JobReport): string {
  const head = ["stage", "worker", "tasks", "succeeded", "failed", "attempts", "retries", "speculative (won)", "failed attempts", "lost races", "cancelled", "abandoned", "elapsed", "median task", "p95", "slowest", "skew", "read", "written", "GET", "PUT", "rows in", "rows out"];
  const rows = r.stages.map((s) => [
    td("name", esc(s.name)), td("worker", esc(s.worker ?? "")), td("tasks", num(s.tasks), s.tasks), td("tasksSucceeded", num(s.tasksSucceeded), s.tasksSucceeded),
    td("tasksFailed", num(s.tasksFailed), s.tasksFailed), td("attempts", num(s.attempts), s.attempts), td("retries", num(s.retries), s.retries),
    td("speculative", `${num(s.speculative)} (${num(s.speculativeWon)})`, s.speculative), td("failedAttempts", num(s.failedAttempts), s.failedAttempts),
    td("lostAttempts", num(s.lostAttempts), s.lostAttempts), td("cancelledAttempts", num(s.cancelledAttempts), s.cancelledAttempts), td("abandonedAttempts", num(s.abandonedAttempts), s.abandonedAttempts),
    td("elapsed", secs(s.elapsedMs), s.elapsedMs), td("median", secs(s.medianTaskMs), s.medianTaskMs), td("p95", secs(s.p95TaskMs), s.p95TaskMs),
    td("slowest", `${secs(s.maxTaskMs)}${s.slowestAttempt ? ` <small>${esc(s.slowestAttempt.split("-").slice(-2).join("-"))}</small>` : ""}`, s.maxTaskMs),
    td("skew", s.skew.toFixed(2), s.skew), td("bytesRead", bytes(s.bytesRead), s.bytesRead), td("bytesWritten", bytes(s.bytesWritten), s.bytesWritten),
    td("readRequests", num(s.readRequests), s.readRequests), td("writeRequests", num(s.writeRequests), s.writeRequests),
    td("rowsIn", s.rowsIn === undefined ? "&ndash;" : num(s.rowsIn)), td("rowsOut", s.rowsOut === undefined ? "&ndash;" : num(s.rowsOut)),
  ]);
  return table("stages", head, rows, (i) => ` data-stage="${esc(r.stages[i]!.name)}"`);
}

function costSection(r: JobReport): string {
  const c = r.cost;
  const places = table(
    "cost-places",
    ["where", "compute", "of which failed attempts (retries)", "lost races (speculation)", "cancelled", "storage", "total"],
    COMPUTE_PLACES.map((p) => {
      const pc = c.places.find((x) => x.place === p)!;
      return [td("place", `${esc(PLACE_NAMES[p])}${p === c.actual ? ` <b>(this run, on ${esc(c.backend)})</b>` : " (estimate)"}`), td("compute", usd(pc.compute), pc.compute), td("failures", usd(pc.failures), pc.failures), td("speculation", usd(pc.speculation), pc.speculation), td("cancelled", usd(pc.cancelled), pc.cancelled), td("storage", usd(c.storage), c.storage), td("total", usd(pc.compute + c.storage), pc.compute + c.storage)];
    }),
    (i) => ` data-place="${COMPUTE_PLACES[i]}"${COMPUTE_PLACES[i] === c.actual ? ' class="actual"' : ""}`,
  );
  const lines = table(
    "cost-lines",
    ["scope", "item", "quantity", "unit", "unit price", "cost"],
    c.lines.map((l) => [td("scope", esc(l.scope)), td("item", esc(l.item)), td("quantity", num(Number(l.quantity.toPrecision(6))), l.quantity), td("unit", esc(l.unit)), td("unitPrice", `$${l.unitPrice.toPrecision(4)}`, l.unitPrice), td("usd", usd(l.usd), l.usd)]),
  );
  const p = c.prices;
  return `<p id="cost-total">This run: <b>${usd(c.total)}</b> (compute on ${esc(c.backend)}: ${usd(c.places.find((x) => x.place === c.actual)!.compute)}, storage requests ${usd(c.storage)}).</p>
${places}
<details><summary>Quantities and prices</summary>${lines}
<p class="note">Prices: ${esc(p.region)}, as of ${esc(p.asOf)}; Lambda ${p.lambda.memoryMb} MB per task, billed per ms of running time plus one request per attempt; Fargate ${p.fargate.vcpu} vCPU / ${p.fargate.memoryGb} GB per task, billed per second from launch (pending included), ${p.fargate.minimumSeconds} s minimum; Spot prices vary. Sources: ${p.sources.map((s) => esc(s)).join(", ")}. Override with <code>smelter report --prices FILE.json</code>.</p></details>`;
}

function failureSection(r: JobReport): string {
  const f = r.failure;
  if (r.status === "succeeded" && f.attemptErrors.length === 0 && f.leftBehind.length === 0) return `<p id="no-failures">No attempt failed.</p>`;
  const parts: string[] = [];
  if (f.error) parts.push(`<p id="job-error" class="err">The job ${esc(r.status)}: <b>${esc(f.error.name)}</b>: ${esc(f.error.message)}</p>`);
  else if (r.status !== "succeeded") parts.push(`<p id="job-error" class="err">The job ${esc(r.status)}.</p>`);
  if (f.failedTasks.length) parts.push(`<h3>Failed tasks</h3>${table("failed-tasks", ["task", "stage", "error"], f.failedTasks.map((t) => [td("task", esc(t.taskId)), td("stage", esc(t.stageName)), td("message", esc(t.message))]))}`);
  if (f.attemptErrors.length) {
    parts.push(`<h3>Every failed attempt</h3>${table("attempt-errors", ["attempt", "stage", "at", "error", "retryable"], f.attemptErrors.map((e) => [td("attempt", esc(e.attemptId)), td("stage", esc(e.stageName)), td("at", secs(e.time - r.start)), td("message", `<b>${esc(e.name)}</b>: ${esc(e.message)}`), td("retryable", e.retryable ? "yes" : "no")]))}`);
  }
  parts.push(
    f.leftBehind.length
      ? `<h3>Left behind</h3>${table("left-behind", ["attempt", "stage", "runtime", "state", "reason"], f.leftBehind.map((a) => [td("attempt", esc(a.attemptId)), td("stage", esc(a.stageName)), td("runtime", esc(a.runtimeId)), td("state", esc(a.outcome)), td("reason", esc(a.reason ?? ""))]))}`
      : `<p id="left-behind-none">Left behind: no attempt was still running when the events end${f.killConfirmations ? ", and every kill was confirmed" : " (this event stream records kill requests, not their confirmation)"}.</p>`,
  );
  if (f.neverLaunched) parts.push(`<p>${num(f.neverLaunched)} queued task${f.neverLaunched === 1 ? " was" : "s were"} never launched.</p>`);
  return parts.join("\n");
}

export function renderReportHtml(r: JobReport, echartsSource: string): string {
  const attempts = r.timeline.attempts.length;
  const statusClass = r.status === "succeeded" ? "ok" : "bad";
  const critical = table(
    "critical-path",
    ["#", "task", "stage", "from", "to", "took", "attempts", "next waited for it as"],
    r.criticalPath.map((s, i) => [td("i", String(i + 1)), td("task", esc(s.taskId)), td("stage", esc(s.stageName)), td("from", secs(s.start - r.start)), td("to", secs(s.end - r.start)), td("took", secs(s.end - s.start)), td("attempts", String(s.attempts)), td("then", s.then === "end" ? "the job's end" : s.then === "input" ? "its input" : "a free slot")]),
  );
  const speculation = r.speculation.length
    ? table("speculation", ["task", "stage", "attempts", "winner"], r.speculation.map((s) => [td("task", esc(s.taskId)), td("stage", esc(s.stageName)), td("attempts", s.attempts.map((a) => `${esc(a.attemptId.split("-").pop())} ${esc(a.cause)}: ${esc(a.outcome)}`).join("; ")), td("winner", esc(s.winner ?? "none"))]), (i) => ` data-task="${esc(r.speculation[i]!.taskId)}"`)
    : `<p>No speculative duplicates.</p>`;
  const legend = (Object.keys(OUTCOME_COLORS) as AttemptOutcome[]).map((o) => `<span class="key"><i style="background:${OUTCOME_COLORS[o]}"></i>${esc(OUTCOME_HELP[o])}</span>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Smelter job ${esc(r.jobId)}${r.name ? ` (${esc(r.name)})` : ""}: ${esc(r.status)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 40px;color:#222}
h1{font-size:20px;margin:18px 0 4px}h2{font-size:16px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}h3{font-size:14px;margin:14px 0 6px}
.status.ok{color:#2e7d32}.status.bad{color:#c62828}.err{color:#b71c1c}.note{color:#555;font-size:12px}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:12px;margin:4px 0}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}th{background:#f4f4f4;white-space:normal;vertical-align:bottom}
td:first-child,td[data-k=message],td[data-k=attempts],td[data-k=item],td[data-k=place],td[data-k=reason]{text-align:left}td[data-k=message]{white-space:normal;max-width:700px}
tr.actual td{background:#eef5ff}.cards{display:flex;gap:18px;flex-wrap:wrap;margin:8px 0}.card{background:#f7f7f7;border-radius:6px;padding:6px 12px}.card b{display:block;font-size:17px}
.key{margin-right:14px;font-size:12px;white-space:nowrap}.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border-radius:2px}
#timeline{width:100%}#series{width:100%;height:300px}.hists{display:flex;flex-wrap:wrap;gap:10px}.hist{width:420px;height:220px}.tip{font-size:12px;max-width:520px;white-space:normal}
</style></head>
<body>
<h1>Job ${esc(r.jobId)}${r.name ? ` <small>${esc(r.name)}</small>` : ""}: <span id="job-status" class="status ${statusClass}">${esc(r.status)}</span></h1>
<div class="cards">
<div class="card">took<b id="job-duration">${secs(r.end - r.start)}</b></div>
<div class="card">started<b>${esc(new Date(r.start).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"))}</b></div>
<div class="card">backend<b id="job-backend">${esc(r.backend)}</b></div>
<div class="card">stages<b>${r.stages.length}</b></div>
<div class="card">tasks<b id="job-tasks">${num(r.stages.reduce((s, x) => s + x.tasks, 0))}</b></div>
<div class="card">attempts<b id="job-attempts">${num(attempts)}</b></div>
<div class="card">cost<b id="job-cost">${usd(r.cost.total)}</b></div>
</div>
${r.unknownEvents ? `<p class="note">${num(r.unknownEvents)} event(s) of types this version does not know were skipped.</p>` : ""}
<h2>Timeline</h2>
<p class="note">One row per worker slot; a thin pale line above a bar is the time the attempt waited to run (launched, not yet running), the bar its running time. Dashed outline and *: a speculative duplicate; &#x21bb;: a retry; thick black outline: on the critical path. Hover a bar for its details and error; scroll or drag below to zoom.</p>
<div>${legend}</div>
<div id="timeline"></div>
<h2>Stages</h2>
${stagesTable(r)}
<h3>Task durations</h3>
<div class="hists">${r.stages.map((s, i) => (s.histogram.counts.length ? `<div class="hist" id="hist-${i}"></div>` : `<p class="note">${esc(s.name)}: no task succeeded.</p>`)).join("")}</div>
<h2>Critical path</h2>
<p class="note">The tasks the job's end waited on, first to last (a task's span includes its retries and duplicates).</p>
${critical}
<h2>Speculation</h2>
${speculation}
<h2>Concurrency and throughput</h2>
<div id="series"></div>
<h2>Cost</h2>
${costSection(r)}
<h2>Failures</h2>
<div id="failures">${failureSection(r)}</div>
<p class="note">Rebuilt from the job's events by <code>smelter report</code>; charts by Apache ECharts (inlined).</p>
<script>${echartsSource.replace(/<\/script/gi, "<\\/script")}</script>
<script type="application/json" id="report-data">${scriptJson(chartData(r))}</script>
<script>${TIMELINE_JS}
${CLIENT_JS}</script>
</body></html>
`;
}
