/**
 * The report pages' scripts (plain browser JavaScript, run after ECharts is loaded).
 * TIMELINE_JS defines `smelterTimeline(el, data)`, the timeline chart shared by the job report and
 * the live page; CLIENT_JS draws the job report's charts from the JSON the page carries (see
 * `chartData` in html.ts). Tables are drawn by html.ts itself.
 */
export const TIMELINE_JS = String.raw`
function smelterTimeline(tl, data) {
  var COLORS = data.colors;
  function secs(ms) { return (ms / 1000).toFixed(ms < 10000 ? 3 : 1) + " s"; }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function bytes(n) { var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + " " + u[i]; }
  function color(a) { return a.outcome === "won" ? data.stageColors[a.stageIndex % data.stageColors.length] : COLORS[a.outcome]; }
  var attempts = data.attempts;
  // --- timeline: one row per worker slot; pending phase pale, running phase by outcome ---
  tl.style.height = Math.max(220, data.lanes.length * 22 + 110) + "px";
  var timeline = echarts.init(tl, null, { renderer: "canvas" });
  timeline.setOption({
    animation: false,
    grid: { left: 110, right: 30, top: 20, bottom: 70 },
    tooltip: {
      confine: true,
      formatter: function (p) {
        var a = attempts[p.value[4]];
        var rows = [
          "<b>" + esc(a.id) + "</b> (" + esc(a.stageName) + ")",
          "task " + esc(a.task) + ", " + esc(a.cause) + (a.rule ? " (" + esc(a.rule) + ")" : "") + (a.dup ? ", duplicate of " + esc(a.dup) : ""),
          "outcome: <b>" + esc(a.outcome) + "</b>" + (a.critical ? " &middot; on the critical path" : ""),
          "on " + esc(a.runtime),
          "launched " + secs(a.launched) + (a.running != null ? ", running " + secs(a.running) : ", never ran") + ", ended " + secs(a.ended),
          "ran " + secs(a.ended - (a.running != null ? a.running : a.launched)) + (a.bytesRead ? ", read " + bytes(a.bytesRead) : ""),
        ];
        if (a.error) rows.push('<span class="err">' + esc(a.error) + "</span>");
        if (a.reason) rows.push("reason: " + esc(a.reason));
        return '<div class="tip">' + rows.join("<br>") + "</div>";
      },
    },
    dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "weakFilter" }, { type: "slider", xAxisIndex: 0, filterMode: "weakFilter", height: 18, bottom: 10 }],
    xAxis: { type: "value", name: "s", min: 0, max: data.durationMs / 1000, axisLabel: { formatter: function (v) { return Number(v.toPrecision(6)) + " s"; } } },
    yAxis: { type: "category", data: data.lanes, inverse: true, axisTick: { show: false } },
    series: [{
      type: "custom",
      name: "attempts",
      clip: true,
      encode: { x: [1, 3], y: 0 },
      data: rows(),
      renderItem: function (params, api) {
        var a = attempts[api.value(4)];
        var lane = api.value(0);
        var h = api.size([0, 1])[1] * 0.7;
        var y = api.coord([0, lane])[1] - h / 2;
        var x0 = api.coord([api.value(1), lane])[0];
        var xr = a.running != null ? api.coord([api.value(2), lane])[0] : x0;
        var x1 = Math.max(api.coord([api.value(3), lane])[0], xr + 3);
        var children = [];
        // Waiting to run: a thin pale line at the top of the row (it may overlap the slot's previous attempt, so it takes no hover).
        if (xr > x0) children.push({ type: "rect", shape: { x: x0, y: y - h * 0.2, width: xr - x0, height: Math.max(2, h * 0.15) }, style: { fill: color(a), opacity: 0.45 }, silent: true });
        var stroke = a.critical ? "#111" : a.cause === "speculation" ? "#333" : null;
        children.push({
          type: "rect",
          shape: { x: xr, y: y, width: x1 - xr, height: h },
          style: { fill: color(a), stroke: stroke, lineWidth: a.critical ? 2 : 1, lineDash: a.cause === "speculation" ? [4, 2] : null },
        });
        if (x1 - xr > 40) children.push({ type: "text", style: { text: (a.cause === "retry" ? "\u21bb " : a.cause === "speculation" ? "* " : "") + a.short, x: xr + 3, y: y + h / 2, verticalAlign: "middle", fill: "#fff", font: "10px sans-serif" }, silent: true });
        return { type: "group", children: children };
      },
    }],
  });

  // Failed and abandoned attempts last: drawn on top of a neighbor that starts the same millisecond, so their error stays hoverable.
  function rows() {
    var top = { failed: 1, abandoned: 1 };
    return attempts.map(function (a, i) { return [a.lane, a.launched / 1000, a.running != null ? a.running / 1000 : null, a.ended / 1000, i]; })
      .sort(function (x, y) { return (top[attempts[x[4]].outcome] ? 1 : 0) - (top[attempts[y[4]].outcome] ? 1 : 0); });
  }
  return {
    chart: timeline,
    attempts: function () { return attempts; },
    /** Redraws with new attempts, lanes and duration (the live page). */
    update: function (next) {
      attempts = next.attempts;
      var height = Math.max(220, next.lanes.length * 22 + 110) + "px";
      if (tl.style.height !== height) { tl.style.height = height; timeline.resize(); }
      timeline.setOption({ xAxis: { max: next.durationMs / 1000 }, yAxis: { data: next.lanes }, series: [{ data: rows() }] });
    },
  };
}
`;

export const CLIENT_JS = String.raw`
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var charts = [];

  var tlView = smelterTimeline(document.getElementById("timeline"), data);
  var timeline = tlView.chart;
  var attempts = data.attempts;
  charts.push(timeline);

  // --- per-stage task duration histograms ---
  data.histograms.forEach(function (h, i) {
    var el = document.getElementById("hist-" + i);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "canvas" });
    charts.push(c);
    c.setOption({
      animation: false,
      title: { text: h.name, left: "center", textStyle: { fontSize: 13 } },
      grid: { left: 40, right: 10, top: 30, bottom: 40 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: h.labels, name: "s", axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1, name: "tasks" },
      series: [{ type: "bar", data: h.counts, barCategoryGap: "5%", itemStyle: { color: data.stageColors[h.stageIndex % data.stageColors.length] } }],
    });
  });

  // --- concurrency and throughput ---
  var s = data.series;
  var sc = echarts.init(document.getElementById("series"), null, { renderer: "canvas" });
  charts.push(sc);
  var xs = s.t.map(function (t) { return t / 1000; });
  function pair(ys) { return ys.map(function (y, i) { return [xs[i], y]; }); }
  sc.setOption({
    animation: false,
    grid: { left: 50, right: 70, top: 40, bottom: 40 },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", name: "s", min: 0, max: data.durationMs / 1000 },
    yAxis: [{ type: "value", name: "attempts" }, { type: "value", name: "MiB/s, tasks/s", splitLine: { show: false } }],
    series: [
      { name: "running", type: "line", step: "end", showSymbol: false, areaStyle: { opacity: 0.2 }, data: pair(s.running) },
      { name: "pending", type: "line", step: "end", showSymbol: false, data: pair(s.pending) },
      { name: "tasks done / s", type: "line", yAxisIndex: 1, showSymbol: false, data: pair(s.tasksPerSecond) },
      { name: "read MiB/s", type: "line", yAxisIndex: 1, showSymbol: false, data: pair(s.bytesReadPerSecond.map(function (b) { return b / 1048576; })) },
      { name: "written MiB/s", type: "line", yAxisIndex: 1, showSymbol: false, data: pair(s.bytesWrittenPerSecond.map(function (b) { return b / 1048576; })) },
    ],
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.smelterReport = { timeline: timeline, attempts: attempts, ready: true };
  document.body.setAttribute("data-ready", "true");
})();
`;
