/**
 * Map-reduce with TypeScript functions (src/mapreduce/functions.ts): results equal to the same
 * computation done in plain JS over the whole input, for lines, NDJSON, CSV with a header and
 * Parquet, on threads and processes, local dir and the embedded S3 server; byte-range splits
 * cut inside files; a retried and a speculative map attempt never count twice; malformed
 * records fail with their location or are skipped and counted; output objects.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { Manager } from "../../src/scheduler/manager.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { openStore } from "../../src/storage/url.js";
import { badReduce, csvRevenue, flaky, parquetRevenue, revenueByCountry, revenueSkipBad, wordCount, type Visit } from "../fixtures/function-jobs.js";

const entry = new URL("../fixtures/function-jobs.js", import.meta.url);
const COUNTRIES = ["FR", "DE", "US", "BR", "JP", "IN", "CN", "NG", "EG", "AR", "ZA", "SE"];
const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];

function visits(n: number, seed: number): Visit[] {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => ({ country: COUNTRIES[Math.floor(rnd() ** 2 * COUNTRIES.length)]!, revenue: Math.round(rnd() * 10000) / 100, page: `p${i % 97}` }));
}

function expectedRevenue(all: Visit[]): Map<string, { visits: number; revenue: number }> {
  const m = new Map<string, { visits: number; revenue: number }>();
  for (const v of all) {
    const e = m.get(v.country) ?? { visits: 0, revenue: 0 };
    e.visits++;
    e.revenue += v.revenue;
    m.set(v.country, e);
  }
  return m;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

describe("map-reduce with functions", () => {
  let dir: string;
  let all: Visit[];
  let text: string;
  let threads: Manager;
  let processes: Manager;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-fn-"));
    all = [];
    const lines: string[] = [];
    for (let f = 0; f < 3; f++) {
      const part = visits(4000 + f * 500, f + 1);
      all.push(...part);
      await mkdir(join(dir, "ndjson"), { recursive: true });
      await writeFile(join(dir, "ndjson", `part-${f}.ndjson`), part.map((v) => JSON.stringify(v)).join("\n") + "\n");
      await mkdir(join(dir, "csv"), { recursive: true });
      await writeFile(join(dir, "csv", `part-${f}.csv`), `country,revenue\n${part.map((v) => `${v.country},${v.revenue}`).join("\r\n")}\r\n`);
      for (let i = 0; i < 1500; i++) lines.push(Array.from({ length: 1 + (i % 7) }, (_, j) => WORDS[(i * 7 + j * 3 + f) % WORDS.length]).join(j(i)));
    }
    text = lines.join("\n");
    await mkdir(join(dir, "text"), { recursive: true });
    await writeFile(join(dir, "text", "book.txt"), text);
    threads = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
    processes = new Manager({ backend: processesBackend({ entry, workers: 2 }) });
  });
  after(async () => {
    await threads.close();
    await processes.close();
    await rm(dir, { recursive: true, force: true });
  });

  const j = (i: number) => [" ", ", ", "  ", " - ", "\t"][i % 5]!;

  test("word count over lines, with a combiner, byte-range splits inside one file, R = 3", async () => {
    const r = await wordCount.run(threads, { input: join(dir, "text", "book.txt"), partitions: 3, targetTaskBytes: 8 * 1024 });
    assert.ok(r.mapTasks >= 4, `several map tasks over one file (${r.mapTasks})`);
    const expected = new Map<string, number>();
    for (const w of text.toLowerCase().split(/[^a-z]+/)) if (w) expected.set(w, (expected.get(w) ?? 0) + 1);
    assert.deepEqual(new Map(r.records!.map((x) => [x.word, x.count])), expected);
    assert.equal(r.records!.length, expected.size, "each word once");
    assert.equal(r.counters.records, text.split("\n").length, "every line read exactly once");
    assert.ok(r.counters.shuffledPairs! < r.counters.emitted!, "the combiner shrank what was shuffled");
  });

  test("each reducer's records come back in key order, as it wrote them; a record JSON cannot hold fails the job by name", async () => {
    // R = 1: one reducer, so the records are in its fixed key order (strings by UTF-16 code units).
    const r = await wordCount.run(processes, { input: join(dir, "text", "book.txt"), partitions: 1, targetTaskBytes: 8 * 1024 });
    const words = r.records!.map((x) => x.word);
    assert.deepEqual(words, [...WORDS].sort());
    assert.equal(r.records!.length, r.counters.outputRecords);
    await assert.rejects(badReduce.run(processes, { input: join(dir, "text", "book.txt"), partitions: 2 }), /test\.fn\.badReduce: reduce returned a function, which JSON cannot hold/);
  });

  for (const backend of ["threads", "processes"] as const) {
    test(`NDJSON, no combiner, ${backend}, R = 4: every value reaches reduce once`, async () => {
      const r = await revenueByCountry.run(backend === "threads" ? threads : processes, { input: `${pathToFileURL(join(dir, "ndjson")).href}/*.ndjson`, partitions: 4, targetTaskBytes: 64 * 1024 });
      assert.ok(r.mapTasks >= 6, `map tasks: ${r.mapTasks}`);
      const expected = expectedRevenue(all);
      assert.equal(r.records!.length, expected.size);
      for (const x of r.records!) {
        const e = expected.get(x.country)!;
        assert.equal(x.visits, e.visits, x.country);
        assert.ok(close(x.revenue, e.revenue), `${x.country}: ${x.revenue} vs ${e.revenue}`);
      }
      assert.equal(r.counters.records, all.length);
      assert.equal(r.counters.outputRecords, expected.size);
    });
  }

  test("CSV with a header (CRLF), rows as objects; Parquet rows as objects", async () => {
    const expected = expectedRevenue(all);
    const csv = await csvRevenue.run(threads, { input: join(dir, "csv/"), partitions: 2, targetTaskBytes: 16 * 1024 });
    assert.ok(csv.mapTasks > 3);
    const pq = join(dir, "pq");
    await mkdir(pq);
    const db = await openDuckDb();
    try {
      await db.run(`COPY (SELECT * FROM read_ndjson('${join(dir, "ndjson")}/*.ndjson')) TO '${pq}/visits.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2000)`);
    } finally {
      db.close();
    }
    const parquet = await parquetRevenue.run(processes, { input: `${pq}/`, partitions: 3, targetTaskBytes: 4 * 1024 });
    assert.ok(parquet.mapTasks >= 2, `row groups as splits (${parquet.mapTasks} tasks)`);
    for (const run of [csv, parquet]) {
      assert.equal(run.records!.length, expected.size);
      for (const x of run.records!) assert.ok(close(x.revenue, expected.get(x.country)!.revenue), `${x.country}`);
      assert.equal(run.counters.records, all.length);
    }
  });

  test("a failed and a straggling map attempt never count twice", async () => {
    const events: SmelterEvent[] = [];
    const r = await flaky.run(threads, { input: join(dir, "ndjson/"), partitions: 2, targetTaskBytes: 32 * 1024 }, {
      policy: { retry: { initialInterval: 10 }, speculation: { afterPercent: 50 } },
      onJob: (job) => job.events.on((e) => events.push(e)),
    });
    const causes = events.filter((e) => e.type === "attempt-launched" && e.stage === 1).map((e) => (e as { cause: string }).cause);
    assert.ok(causes.includes("retry") && causes.includes("speculation"), causes.join(","));
    const expected = expectedRevenue(all);
    assert.deepEqual(new Map(r.records!.map((x) => [x.country, x.visits])), new Map([...expected].map(([c, e]) => [c, e.visits])));
  });

  test("a malformed record fails the job with its location; badRecords: skip counts it", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad);
    await writeFile(join(bad, "a.ndjson"), `${JSON.stringify(all[0])}\n{"country": "FR", "revenue": 60\n${JSON.stringify(all[1])}\n`);
    await writeFile(join(bad, "b.ndjson"), `${JSON.stringify({ country: "FR", revenue: 70 })}\n\n`);
    await assert.rejects(revenueByCountry.run(threads, { input: `${bad}/` }), (err: Error) => {
      assert.match(err.message, /a\.ndjson: record 2 of bytes \[0, \d+\) is not JSON/);
      assert.match(err.message, /badRecords: "skip"/);
      return true;
    });
    const r = await revenueSkipBad.run(threads, { input: `${bad}/` });
    assert.equal(r.counters.badRecords, 1);
    assert.equal(r.counters.records, 3);
    const fr = [all[0]!, all[1]!, { country: "FR", revenue: 70 }].filter((v) => v.country === "FR" && v.revenue >= 50).length;
    assert.deepEqual(r.records!.filter((x) => x.country === "FR" && x.big), fr >= 2 ? [{ country: "FR", big: true, visits: fr }] : []);
  });

  test("output objects under a prefix; a prefix that holds objects is refused; no input says so", async () => {
    const out = `${pathToFileURL(join(dir, "out")).href}/counts/`;
    const r = await wordCount.run(threads, { input: join(dir, "text/"), partitions: 3, output: out });
    assert.equal(r.records, undefined);
    assert.ok(r.outputUrls!.length >= 1 && r.outputUrls!.every((u) => u.startsWith(out) && /counts\/part-0000\d\.ndjson$/.test(u)), r.outputUrls!.join());
    const words = new Map<string, number>();
    for (const u of r.outputUrls!) for (const line of (await readFile(fileURLToPath(u), "utf8")).trim().split("\n")) {
      const x = JSON.parse(line) as { word: string; count: number };
      words.set(x.word, x.count);
    }
    assert.equal(words.get("alpha"), text.split(/[^a-z]+/).filter((w) => w === "alpha").length);
    await assert.rejects(wordCount.run(threads, { input: join(dir, "text/"), output: out }), /already holds objects .*choose an empty prefix/);
    await assert.rejects(wordCount.run(threads, { input: join(dir, "nothing-here/") }), /no input objects at .*nothing-here/);
  });

  describe("on the embedded S3 server", () => {
    let server: S3Server;
    let saved: NodeJS.ProcessEnv;
    let s3processes: Manager;
    before(async () => {
      server = await startS3Server({ buckets: ["fn-data"] });
      saved = { ...process.env };
      Object.assign(process.env, server.env);
      s3processes = new Manager({ backend: processesBackend({ entry, workers: 2 }) });
    });
    after(async () => {
      await s3processes.close();
      process.env = saved;
      await server.stop();
    });

    test("NDJSON from s3://, processes, shuffle through the bucket, work prefix deleted", async () => {
      const { store } = await openStore("s3://fn-data/");
      for (let f = 0; f < 3; f++) await store.put(`in/part-${f}.ndjson`, await readFile(join(dir, "ndjson", `part-${f}.ndjson`)));
      const r = await revenueByCountry.run(s3processes, { input: "s3://fn-data/in/", partitions: 3, targetTaskBytes: 64 * 1024 });
      const expected = expectedRevenue(all);
      assert.equal(r.records!.length, expected.size);
      for (const x of r.records!) assert.equal(x.visits, expected.get(x.country)!.visits);
      const left: string[] = [];
      for await (const info of store.list("_smelter/")) left.push(info.key);
      assert.deepEqual(left, [], "work prefix deleted");
    });
  });
});
