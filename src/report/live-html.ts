/**
 * The live page of `--ui`: one HTML file (ECharts and the shared timeline inlined) that polls
 * `state?token=...&since=N` twice a second and draws per-stage progress, the growing timeline,
 * failures, the log tail and the running cost (see live-state.ts).
 */
import { TIMELINE_JS } from "./html-client.js";
import { esc } from "./html.js";

const LIVE_JS = String.raw`
(function () {
  var token = new URLSearchParams(location.search).get("token") || "";
  var since = 0, view = null, byId = {}, done = false, logs = [], nextDraw = 0, failuresKey = "";
  var $ = function (id) { return document.getElementById(id); };
  function text(el, s) { if (el.textContent !== s) el.textContent = s; }
  function stageRow(s) {
    var id = "stage-" + s.name.replace(/[^a-zA-Z0-9_-]/g, "_");
    var tr = $(id);
    if (!tr) {
      tr = document.createElement("tr"); tr.id = id; tr.setAttribute("data-stage", s.name);
      tr.innerHTML = '<td data-k="name"></td><td><div class="bar"><i></i></div></td><td data-k="succeeded"></td><td data-k="tasks"></td><td data-k="running"></td><td data-k="failed"></td><td data-k="attempts"></td><td data-k="retries"></td><td data-k="speculative"></td>';
      $("stages").querySelector("tbody").appendChild(tr);
    }
    return tr;
  }
  function render(s) {
    since = s.seq;
    text($("job-id"), s.jobId);
    text($("job-status"), s.status);
    $("job-status").className = "status " + (s.status === "running" ? "run" : s.status === "succeeded" ? "ok" : "bad");
    text($("elapsed"), (s.elapsedMs / 1000).toFixed(1) + " s");
    text($("cost"), s.cost);
    s.stages.forEach(function (st) {
      var tr = stageRow(st);
      var cells = { name: st.name, succeeded: st.succeeded, tasks: st.tasks, running: st.running, failed: st.failed, attempts: st.attempts, retries: st.retries, speculative: st.speculative + " (" + st.speculativeWon + " won)" };
      Object.keys(cells).forEach(function (k) { text(tr.querySelector('[data-k="' + k + '"]'), String(cells[k])); });
      tr.querySelector(".bar i").style.width = (st.tasks ? (100 * st.succeeded) / st.tasks : 0) + "%";
    });
    // Merge the batch: every running bar comes in each batch (a running bar missing from it was
    // dropped by the server's downsampling); finished bars are kept when pinned or ord % stride == 0.
    var inBatch = {};
    s.attempts.forEach(function (a) { byId[a.id] = a; inBatch[a.id] = true; });
    var laneOf = {};
    s.lanes.forEach(function (l, i) { laneOf[l] = i; });
    var all = [];
    Object.keys(byId).forEach(function (k) {
      var a = byId[k];
      if ((a.outcome === "unfinished" && !inBatch[k]) || (a.outcome !== "unfinished" && !a.pinned && a.ord % s.stride !== 0)) { delete byId[k]; return; }
      a.lane = laneOf[a.laneName];
      all.push(a);
    });
    text($("shown"), s.shown < s.finished ? "Showing " + s.shown.toLocaleString("en-US") + " of " + s.finished.toLocaleString("en-US") + " finished attempts (every " + s.stride + "th, plus failures and speculated tasks) and every running one." : "");
    // Redraw the timeline at most once per 4x its last drawing time and per 0.5 ms a bar (so
    // drawing keeps to a fraction of the main thread however big the job), and always at the end.
    var data = { colors: s.colors, stageColors: s.stageColors, lanes: s.lanes, attempts: all, durationMs: Math.max(1, s.elapsedMs) };
    var t = performance.now();
    if (!view || s.status !== "running" || t >= nextDraw) {
      if (!view) view = smelterTimeline($("timeline"), data); else view.update(data);
      var took = performance.now() - t;
      nextDraw = performance.now() + Math.max(4 * took, all.length / 2); // ECharts paints in the next frame too: 4,000 bars, every 2 s
      window.smelterLive.draws++;
    }
    window.smelterLive.attempts = all;
    window.smelterLive.last = { stride: s.stride, finished: s.finished, shown: s.shown, bytes: 0 };
    window.smelterLive.timeline = view.chart;
    if (s.logs.length) {
      logs = logs.concat(s.logs).slice(-200);
      text($("logs"), logs.join("\n"));
    }
    var fk = (s.jobError || "") + "|" + s.failures.length + "|" + (s.failures.length ? s.failures[s.failures.length - 1].attemptId : "");
    if (fk !== failuresKey) failuresKey = fk, $("failures").innerHTML = (s.jobError ? '<li class="err"><b>job: ' + esc(s.jobError) + "</b></li>" : "") + s.failures.map(function (f) { return '<li data-attempt="' + esc(f.attemptId) + '"><code>' + esc(f.attemptId) + "</code> " + esc(f.message) + "</li>"; }).join("");
    window.smelterLive.polls++;
    if (s.status !== "running") { done = true; document.body.setAttribute("data-done", "true"); }
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function poll() {
    fetch("state?token=" + encodeURIComponent(token) + "&since=" + since, { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { text($("conn"), done ? "" : "(connection lost: " + e.message + "; the job may have ended)"); done = done || String(e).indexOf("Failed to fetch") >= 0; })
      .then(function () { if (!done) setTimeout(poll, 500); });
  }
  window.smelterLive = { polls: 0, draws: 0, attempts: [] };
  window.addEventListener("resize", function () { if (view) view.chart.resize(); });
  poll();
})();
`;

export function renderLiveHtml(echartsSource: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Smelter live job</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 40px;color:#222}
h1{font-size:20px;margin:18px 0 4px}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
.status.ok{color:#2e7d32}.status.bad{color:#c62828}.status.run{color:#1565c0}.err{color:#b71c1c}.note{color:#555;font-size:12px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}th{background:#f4f4f4}td:first-child{text-align:left}
.bar{width:220px;height:10px;background:#eee;border-radius:3px;overflow:hidden}.bar i{display:block;height:100%;background:#4e79a7;width:0}
#timeline{width:100%}#logs{background:#111;color:#ddd;font-size:12px;padding:8px;max-height:300px;overflow:auto;white-space:pre-wrap}
#failures li{font-size:12px}.tip{font-size:12px;max-width:520px;white-space:normal}
</style></head>
<body>
<h1>Job <span id="job-id"></span>: <span id="job-status" class="status run">starting</span> <small id="elapsed"></small> <small id="conn" class="note"></small></h1>
<p id="cost" class="note"></p>
<h2>Stages</h2>
<table id="stages"><thead><tr><th>stage</th><th>progress</th><th>done</th><th>tasks</th><th>running</th><th>failed</th><th>attempts</th><th>retries</th><th>speculative</th></tr></thead><tbody></tbody></table>
<h2>Timeline</h2>
<p class="note">One row per worker slot (slots are reused as attempts end), growing as the job runs; hover a bar for its details. The full report: <code>smelter report EVENTS</code> or <code>--report FILE.html</code>.</p>
<p id="shown" class="note"></p>
<div id="timeline"></div>
<h2>Failures</h2>
<ul id="failures"></ul>
<h2>Log tail</h2>
<pre id="logs"></pre>
<script>${echartsSource.replace(/<\/script/gi, "<\\/script")}</script>
<script>${TIMELINE_JS}\n${LIVE_JS}</script>
<p class="note">Smelter live page; charts by Apache ECharts (inlined). ${esc("Served on 127.0.0.1 only.")}</p>
</body></html>
`;
}
