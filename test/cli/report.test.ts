/** `smelter report` and the report side of every job, as a user runs them: the cost line, --report, tables stages and costs. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { openDuckDb } from "../../src/duckdb/index.js";
import { readEventsFile } from "../../src/report/event-input.js";
import { buildJobReport } from "../../src/report/job-report.js";
import { makeUservisits } from "../helpers/uservisits.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const smelter = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });

describe("job report from the CLI", () => {
  let data: Awaited<ReturnType<typeof makeUservisits>>;
  before(async () => {
    data = await makeUservisits(20_000, 3);
  });

  test("query2 prints the cost line, writes --report, and the DuckDB file's stages and costs agree with the events", async () => {
    const file = join(data.dir, "q.duckdb");
    const events = join(data.dir, "q.jsonl");
    const html = join(data.dir, "q-live.html");
    const r = smelter("query2", "--backend", "threads", "--workers", "2", "--input", data.csv, "--partitions", "2", "--output", file, "--events", events, "--report", html);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[smelter\] cost: \$[\d.e-]+ \(compute \$0 on threads; storage \$[\d.e-]+: \d+ GET, \d+ PUT\); on Lambda 2048 MB \$/);
    assert.match(r.stderr, /wrote tables result, attempts, stages and costs/);
    assert.ok(readFileSync(html, "utf8").includes('id="timeline"'), "--report wrote the page");

    const report = buildJobReport(await readEventsFile(events));
    const db = await openDuckDb({ path: file });
    try {
      const stages = await db.all<{ name: string; tasks: bigint; attempts: bigint; bytes_read: bigint; write_requests: bigint }>("SELECT name, tasks, attempts, bytes_read, write_requests FROM stages ORDER BY stage");
      assert.deepEqual(stages.map((s) => s.name), ["map", "reduce"]);
      for (const [i, s] of stages.entries()) {
        const want = report.stages[i]!;
        assert.equal(Number(s.tasks), want.tasks);
        assert.equal(Number(s.attempts), want.attempts);
        assert.equal(Number(s.bytes_read), want.bytesRead);
        assert.equal(Number(s.write_requests), want.writeRequests);
      }
      assert.equal(Number(stages[1]!.tasks), 2, "--partitions 2");
      assert.equal(Number(await db.value("SELECT sum(attempts) FROM stages")), Number(await db.value("SELECT count(*) FROM attempts")), "stages and attempts tables agree");
      const total = Number(await db.value("SELECT sum(usd) FROM costs WHERE this_run AND kind = 'charge'"));
      assert.ok(Math.abs(total - report.cost.total) < 1e-12);
      const gets = Number(await db.value("SELECT quantity FROM costs WHERE item = 'S3 GET requests'"));
      assert.equal(gets, report.stages.reduce((s, x) => s + x.readRequests, 0));
      assert.ok(Number(await db.value("SELECT usd FROM costs WHERE scope = 'lambda' AND unit = 'GB-s'")) > 0, "what it would cost on Lambda");
    } finally {
      db.close();
    }

    const again = smelter("report", events, "--output", join(data.dir, "q.html"));
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /wrote .*q\.html/);
    assert.match(again.stderr, /\[smelter\] cost: /, "the same cost line, rebuilt from the file");
    assert.equal(/\[smelter\] cost: [^\n]*/.exec(again.stderr)![0], /\[smelter\] cost: [^\n]*/.exec(r.stderr)![0]);
  });

  test("report: the default output name, --prices, and bad input said in Smelter's words", () => {
    const events = join(data.dir, "pi.jsonl");
    const pi = smelter("pi", "--backend", "inline", "--tasks", "4", "--samples", "1000", "--stragglers", "0", "--events", events, "--quiet");
    assert.equal(pi.status, 0, pi.stderr);
    const prices = join(data.dir, "prices.json");
    writeFileSync(prices, JSON.stringify({ lambda: { memoryMb: 512 } }));
    const r = smelter("report", events, "--prices", prices, "--backend", "lambda");
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(data.dir, "pi.html")));
    assert.match(r.stderr, /cost: \$[\d.e-]+ \(compute \$[\d.e-]+ on lambda/);
    assert.match(readFileSync(join(data.dir, "pi.html"), "utf8"), /Lambda 512 MB per task/);

    const missing = smelter("report", join(data.dir, "none.jsonl"));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^\[smelter\] no events file at .*none\.jsonl/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, "no stack trace");
    writeFileSync(prices, JSON.stringify({ lambda: { memory: 512 } }));
    const bad = smelter("report", events, "--prices", prices);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /\[smelter\] the price file .* is not a valid price table: lambda/);
    const out = smelter("report", events, "--output", join(data.dir, "x.pdf"));
    assert.equal(out.status, 1);
    assert.match(out.stderr, /--output must end in \.html/);
  });
});
