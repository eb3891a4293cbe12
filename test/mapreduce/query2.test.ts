/**
 * Query 2 (a fixed SQL plan on the SQL executor), checked against DuckDB alone on the same files: same groups, sums
 * within a relative 1e-6. 2A/2B/2C, CSV and Parquet, threads and processes, R = 1, 4, 16; and
 * with a retried attempt and a speculative duplicate forced in, still one contribution per split.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { runQuery2 } from "../../src/query/query2.js";
import { Manager } from "../../src/scheduler/manager.js";
import { localStore } from "../../src/storage/local.js";
import { compareWithDuckDb, makeUservisits } from "../helpers/uservisits.js";

const entry = new URL("../fixtures/mapreduce-workers.js", import.meta.url);

describe("query2", () => {
  let data: Awaited<ReturnType<typeof makeUservisits>>;
  let threads: Manager;
  let processes: Manager;
  before(async () => {
    data = await makeUservisits(30_000, 3);
    threads = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
    processes = new Manager({ backend: processesBackend({ entry, workers: 2 }) });
  });
  after(async () => {
    await threads.close();
    await processes.close();
  });

  const cases: [string, "csv" | "parquet", number, number][] = [
    ["threads", "csv", 8, 1],
    ["threads", "csv", 8, 4],
    ["threads", "csv", 8, 16],
    ["threads", "csv", 10, 4],
    ["threads", "csv", 12, 4],
    ["threads", "parquet", 8, 4],
    ["threads", "parquet", 12, 16],
    ["processes", "csv", 10, 4],
    ["processes", "parquet", 8, 1],
    ["processes", "csv", 12, 16],
  ];
  for (const [backend, format, prefixLen, partitions] of cases) {
    test(`${backend}, ${format}, prefix ${prefixLen}, R = ${partitions}: equal to DuckDB alone`, async () => {
      const db = await openDuckDb();
      try {
        const manager = backend === "threads" ? threads : processes;
        const r = await runQuery2(manager, db, { input: format === "csv" ? data.csv : data.parquet, prefixLen, partitions, targetTaskBytes: 512 * 1024 });
        assert.ok(r.tasks[0]! >= 3, `several map tasks (${r.tasks[0]})`);
        assert.equal(r.tasks[1], partitions);
        const c = await compareWithDuckDb(db, format === "csv" ? data.csv : data.parquet, format, prefixLen);
        assert.ok(c.expected > 100);
        assert.equal(c.got, c.expected, "same number of groups");
        assert.equal(c.found, c.expected, "every group found");
        assert.ok(c.maxRel <= 1e-6, `sums within 1e-6 (max relative error ${c.maxRel})`);
      } finally {
        db.close();
      }
    });
  }

  test("a retried map attempt (failed after writing) and a speculative duplicate never count twice", async () => {
    for (const mapWorker of ["test.map.failAfterWrite", "test.map.straggleAfterWrite"]) {
      const db = await openDuckDb();
      const events: SmelterEvent[] = [];
      try {
        await runQuery2(threads, db, { input: data.csv, prefixLen: 8, partitions: 4, targetTaskBytes: 512 * 1024 }, {
          mapWorker,
          policy: { retry: { initialInterval: 10 }, speculation: { afterPercent: 60 } },
          onJob: (job) => job.events.on((e) => events.push(e)),
        });
        const c = await compareWithDuckDb(db, data.csv, "csv", 8);
        assert.equal(c.got, c.expected);
        assert.ok(c.maxRel <= 1e-6, `${mapWorker}: sums exact (max relative error ${c.maxRel})`);
        const causes = events.filter((e) => e.type === "attempt-launched" && e.stage === 1).map((e) => (e as { cause: string }).cause);
        assert.ok(causes.includes(mapWorker.endsWith("failAfterWrite") ? "retry" : "speculation"), `${mapWorker}: ${causes.join(",")}`);
      } finally {
        db.close();
      }
    }
  });

  test("the work prefix is deleted after the job, and a missing input says what to do", async () => {
    const db = await openDuckDb();
    try {
      const work = `${data.dir}/work/`;
      await runQuery2(threads, db, { input: data.csv, prefixLen: 8, partitions: 2, work });
      const left: string[] = [];
      for await (const o of localStore(work).list("")) left.push(o.key);
      assert.deepEqual(left, [], "no shuffle or output objects left behind");
      await assert.rejects(runQuery2(threads, db, { input: `${data.dir}/nothing-here/`, prefixLen: 8 }), /no uservisits data/);
    } finally {
      db.close();
    }
  });
});
