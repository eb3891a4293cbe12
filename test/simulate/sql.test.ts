/**
 * The simulated SQL plan is the real one: over a real store holding objects of the same sizes as
 * a shape's synthetic listing, `smelter explain`'s path (resolveCatalog -> planQuery ->
 * prepareQuery) gives the same strategy, stage graph, R, task counts and splits as the
 * simulator's planning, and the simulated job runs exactly those tasks. Plus `simulate sql` over
 * a partitioned join (the Big Data Benchmark's Query 3 shape) and its CLI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { stageShape } from "../../src/query/execute.js";
import { prepareQuery, type PreparedQuery } from "../../src/query/prepare.js";
import { query2Sql } from "../../src/query/query2.js";
import { resolveCatalog } from "../../src/sql/catalog.js";
import { planQuery } from "../../src/sql/plan.js";
import type { PlanOptions } from "../../src/sql/model.js";
import { clearMemoryStore, memoryStore } from "../../src/storage/memory.js";
import { PRESETS, parseTableShape, type TableShape } from "../../src/simulate/shapes.js";
import { prepareSimulation, simulatePrepared, simulateSql } from "../../src/simulate/sql.js";
import { simulateQuery2 } from "../../src/simulate/query2.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const STORE = "simulate-sql-equal";
const Q3 =
  "SELECT sourceIP, totalRevenue, avgPageRank FROM (SELECT sourceIP, AVG(pageRank) as avgPageRank, SUM(adRevenue) as totalRevenue FROM rankings AS R, uservisits AS UV WHERE R.pageURL = UV.destURL AND UV.visitDate BETWEEN Date('1980-01-01') AND Date('1980-04-01') GROUP BY UV.sourceIP) ORDER BY totalRevenue DESC LIMIT 1";
const UV_LINE = "158.112.27.3,nbizrgdziebsaecsecujfjcqtvnpcnxxwiopmddorcxnlijdizgoi,1991-06-10,0.115967035,Mozilla/5.0,USA,USA-EN,wireless,9\n";
const RK_LINE = "nbizrgdziebsaecsecujfjcqtvnpcnxxwiopmddorcxnlijdizgoi,11,97\n";

/** Objects of CSV lines, `sizes` bytes each (cut at a line end, the rest padded by a shorter last line). */
async function putObjects(prefix: string, line: string, sizes: number[]): Promise<void> {
  const store = memoryStore(STORE);
  for (const [i, size] of sizes.entries()) {
    const body = Buffer.alloc(size, "x");
    const whole = Math.floor(size / line.length);
    for (let k = 0; k < whole; k++) body.write(line, k * line.length);
    body.fill("\n", whole * line.length);
    await store.put(`${prefix}part-${String(i).padStart(5, "0")}`, body);
  }
}

/** What `smelter explain` computes: the catalog's listing, the planner, the prepared tasks. */
async function explainPath(query: string, tables: TableShape[], workers: number, options: PlanOptions): Promise<PreparedQuery> {
  const catalog = await resolveCatalog(tables.map((t) => ({ name: t.name, url: `memory://${STORE}/${t.name}/`, columns: t.columns, options: { delimiter: ",", header: false, quote: '"' } })));
  const plan = await planQuery(query, catalog.tables, { workers, ...options });
  return prepareQuery(plan, catalog.listings, { workers });
}

/** The parts of a prepared query the simulation must share with explain. */
function skeleton(p: PreparedQuery) {
  return {
    strategy: p.plan.strategy,
    graph: p.plan.stages.map((s) => ({ name: s.name, tasks: s.tasks, output: s.output.kind === "shuffle" ? s.output.partitions : "gather", ...stageShape(p.plan, s) })),
    coordinator: p.plan.coordinator.inputs.map((i) => i.stage),
    tasks: p.stages.map((s) => s.tasks.map((t) => t.splits.map((x) => `${x.key} ${x.range.start}-${x.range.end}`))),
    leaf: p.stages.map((s) => s.leaf ?? null),
  };
}

describe("simulate sql plans what smelter explain plans", () => {
  // uservisits: 6 objects of 5 MB; rankings: 2 of 1.5 MB (each shape's synthetic listing has the same sizes).
  const uservisits: TableShape = { name: "uservisits", columns: PRESETS.uservisits!.columns, rows: 30e6, bytesPerRow: 1, selectivity: 0.01, objects: 6 };
  const rankings: TableShape = { name: "rankings", columns: PRESETS.rankings!.columns, rows: 3e6, bytesPerRow: 1, selectivity: 1, objects: 2 };
  before(async () => {
    await putObjects("uservisits/", UV_LINE, Array(6).fill(5e6));
    await putObjects("rankings/", RK_LINE, Array(2).fill(1.5e6));
  });
  after(() => clearMemoryStore(STORE));

  const cases: { name: string; query: string; tables: TableShape[]; workers: number; options: PlanOptions }[] = [
    { name: "Query 2A, merged on the coordinator", query: query2Sql(8), tables: [uservisits], workers: 4, options: {} },
    { name: "Query 2A with R = 3", query: query2Sql(8), tables: [uservisits], workers: 4, options: { partitions: 3 } },
    { name: "a scan with a filter", query: "SELECT destURL, adRevenue FROM uservisits WHERE adRevenue > 0.5", tables: [uservisits], workers: 3, options: {} },
    { name: "Query 3: a partitioned join + aggregate + top 1", query: Q3, tables: [uservisits, rankings], workers: 4, options: { join: "partitioned" } },
    { name: "Query 3, broadcast join", query: Q3, tables: [uservisits, rankings], workers: 5, options: {} },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const real = await explainPath(c.query, c.tables, c.workers, c.options);
      const sim = await prepareSimulation({ query: c.query, tables: c.tables, workers: c.workers, ...(c.options.partitions ? { partitions: c.options.partitions } : {}), ...(c.options.join ? { join: c.options.join } : {}) });
      assert.deepEqual(skeleton(sim), skeleton(real));
      // The simulated job runs exactly those tasks, stage by stage.
      const counts: number[] = [];
      const r = await simulatePrepared(sim, c.tables, { platform: "lambda", workers: c.workers, memoryMb: 2048, speculation: false, hedging: false, seed: 1, failureRate: 0, onEvent: (e) => e.type === "stage-done" && (counts[e.stage - 1] = e.counts.total) });
      assert.equal(r.failed, undefined, r.failed);
      assert.deepEqual(counts, real.stages.map((s) => s.tasks.length));
      assert.deepEqual(r.tasks, counts);
    });
  }
});

describe("simulate sql", () => {
  const shapes = () => [parseTableShape("uservisits=uservisits:20GB,select=0.006"), parseTableShape("rankings=rankings:1GB")];

  test("Query 3 on 100 Lambdas: a partitioned join whose join stage reads both scans, then a final aggregate", async () => {
    const r = await simulateSql({ query: Q3, tables: shapes(), partitions: 10 }, { platform: "lambda", workers: 100, memoryMb: 2048, speculation: true, hedging: true, seed: 3, prefixGetRate: 1e12 });
    assert.equal(r.failed, undefined, r.failed);
    assert.match(r.strategy, /^partitioned join rankings \+ uservisits/);
    assert.equal(r.tasks.length, 4);
    assert.deepEqual(r.tasks.slice(2), [10, 10]);
    // Both tables read once at least; the join stage's 10 tasks each GET one segment per scan task.
    assert.ok(r.store.bytesRead >= 21e9, `${r.store.bytesRead}`);
    assert.ok(r.store.gets >= 10 * (r.tasks[0]! + r.tasks[1]!));
    assert.ok(r.seconds! > 0 && r.cost > 0);
  });

  test("a seed replays exactly; another seed differs", async () => {
    const run = (seed: number) => simulateSql({ query: Q3, tables: shapes(), partitions: 10 }, { platform: "lambda", workers: 60, memoryMb: 2048, speculation: true, hedging: true, seed, stragglers: { rate: 0.05, factor: 5 } });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    const strip = (r: typeof a) => ({ ...r, simulatedInMs: 0 });
    assert.deepEqual(strip(a), strip(b));
    assert.notEqual(a.seconds, c.seconds);
  });

  test("simulate query2 is the SQL plan of smelter query2", async () => {
    const viaSql = await simulateSql({ query: query2Sql(8), tables: [{ ...parseTableShape("uservisits=uservisits:5GB") }], partitions: 8 }, { platform: "lambda", workers: 40, memoryMb: 2048, speculation: false, hedging: false, seed: 2 });
    const q2 = await simulateQuery2({ platform: "lambda", workers: 40, memoryMb: 2048, speculation: false, hedging: false, seed: 2, inputBytes: 5e9, partitions: 8 });
    assert.equal(q2.strategy, viaSql.strategy);
    assert.deepEqual(q2.tasks, viaSql.tasks);
  });

  test("the CLI simulates a join over preset shapes, and names bad shapes", () => {
    const ok = spawnSync(process.execPath, [bin, "simulate", "sql", Q3, "--table", "uservisits=uservisits:2GB,select=0.006", "--table", "rankings=rankings:200MB", "--workers", "20", "--seeds", "1", "--partitions", "4"], { encoding: "utf8", timeout: 120_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /partitioned join rankings \+ uservisits/);
    assert.match(ok.stdout, /predicted by simulation/);
    const bad = spawnSync(process.execPath, [bin, "simulate", "sql", "SELECT count(*) FROM t", "--table", "t=rows=10M"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^\[smelter\] .*table t is no preset .*--schema t=/);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/);
  });
});
