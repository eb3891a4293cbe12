/**
 * An input object overwritten between a job's listing and its workers' reads, through the APIs:
 * the functions API (defineMapReduce) on a local directory and on the embedded S3 server, and
 * `smelter sql`'s steps (prepareQuery + executePrepared) on a local directory, both a byte range
 * copied and a whole object read in place by DuckDB (checked again once DuckDB has read it). Each
 * overwrite keeps the object's size, so only its version can tell. The job fails with
 * InputChangedError's message naming the object, in one attempt, and leaves no work prefix and
 * no temp directory.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBackend, processesBackend, threadsBackend } from "../../src/backends/index.js";
import "../../src/builtin-workers/builtin.js";
import { tablesFromFlags } from "../../src/cli/sql-flags.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { SmelterError } from "../../src/job/errors.js";
import type { Job } from "../../src/scheduler/job.js";
import { checkInPlaceUnchanged, materializeSplits } from "../../src/mapreduce/materialize.js";
import { executePrepared } from "../../src/query/execute.js";
import { prepareQuery } from "../../src/query/prepare.js";
import { Manager } from "../../src/scheduler/manager.js";
import { listInput } from "../../src/splits/listing.js";
import { planQuery } from "../../src/sql/plan.js";
import { jobTempDir } from "../../src/job/temporaries.js";
import { localStore } from "../../src/storage/local.js";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { startFaultProxy, type FaultProxy } from "../tooling/fault-proxy.js";
import { revenueByCountry } from "../fixtures/function-jobs.js";

const entry = new URL("../fixtures/function-jobs.js", import.meta.url);

/** NDJSON visits, `n` per file. */
function ndjson(n: number, seed: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ country: ["FR", "DE", "US"][(i + seed) % 3], revenue: (i * 7 + seed) % 100, page: `p${i % 13}` })).join("\n") + "\n";
}

/** The same bytes with every FR and DE swapped: another version of the same size. */
function swapped(text: string): string {
  return text.replace(/"(FR|DE)"/g, (_m, c: string) => (c === "FR" ? '"DE"' : '"FR"'));
}

function assertChanged(err: unknown, object: RegExp): true {
  assert.ok(err instanceof SmelterError, `a SmelterError, not ${String(err)}`);
  assert.match(err.message, /^\[smelter\]/);
  assert.match(err.message, object);
  assert.match(err.message, /changed during the job/);
  assert.match(err.message, /rerun it once the input stops changing/);
  assert.match(err.message, /failed after a non-retryable error/, "one attempt: retrying cannot help");
  assert.doesNotMatch(err.message, /^ {4}at /m);
  return true;
}

/** Files under `dir` (none expected once a job cleaned up). */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)) : [];
}

describe("an input overwritten mid-job, through the APIs", () => {
  let dir: string;
  let threads: Manager;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-changed-"));
    threads = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
  });
  after(async () => {
    await threads.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("functions API, local directory: the job fails naming the object, nothing left", async () => {
    const input = join(dir, "fn");
    mkdirSync(input);
    for (let f = 0; f < 3; f++) writeFileSync(join(input, `part-${f}.ndjson`), ndjson(400, f));
    const work = join(dir, "fn-work");
    let job: Job | undefined;
    const run = revenueByCountry.run(threads, { input, work, partitions: 2, targetTaskBytes: 4096 }, {
      // The listing is done, no task has started: overwrite one object with another of its size.
      onJob: (j) => {
        job = j;
        writeFileSync(join(input, "part-1.ndjson"), swapped(readFileSync(join(input, "part-1.ndjson"), "utf8")));
      },
    });
    await assert.rejects(run, (err) => assertChanged(err, /part-1\.ndjson changed during the job/));
    assert.deepEqual(filesUnder(work), [], "no work prefix left");
    assert.ok(job);
    assert.equal(existsSync(jobTempDir(job.id)), false, "no temp directory left");
  });

  test("functions API, local directory, unchanged: the answer, no false alarm", async () => {
    const input = join(dir, "fn-same");
    mkdirSync(input);
    for (let f = 0; f < 3; f++) writeFileSync(join(input, `part-${f}.ndjson`), ndjson(400, f));
    const r = await revenueByCountry.run(threads, { input, partitions: 2, targetTaskBytes: 4096 });
    assert.equal(r.records!.reduce((n, x) => n + x.visits, 0), 1200);
  });

  describe("functions API on the embedded S3 server (If-Match ignored: the response's ETag compared)", () => {
    let server: S3Server;
    let proxy: FaultProxy;
    let saved: NodeJS.ProcessEnv;
    let processes: Manager;
    before(async () => {
      server = await startS3Server({ buckets: ["fn-data"] });
      proxy = await startFaultProxy({ target: server.endpoint, seed: 1 });
      saved = { ...process.env };
      // The job (and its workers) reach the server through the proxy.
      Object.assign(process.env, server.env, { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      processes = new Manager({ backend: processesBackend({ entry, workers: 2 }) });
    });
    after(async () => {
      await processes?.close();
      if (saved) process.env = saved;
      await proxy?.stop();
      await server?.stop();
    });

    test("an object overwritten while the first map read is held: the job fails naming it, no work prefix left", async () => {
      const direct = s3Store({ bucket: "fn-data", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
      try {
        for (let f = 0; f < 3; f++) await direct.put(`in/part-${f}.ndjson`, Buffer.from(ndjson(400, f)));
        const gate = proxy.hold((req) => req.method === "GET" && req.headers["if-match"] !== undefined);
        const run = revenueByCountry.run(processes, { input: "s3://fn-data/in/", partitions: 2, targetTaskBytes: 4096 });
        run.catch(() => undefined);
        const held = await gate.first;
        const key = decodeURIComponent(new URL(held.url ?? "/", "http://x").pathname).split("/").slice(2).join("/");
        await direct.put(key, Buffer.from(swapped(Buffer.from(await direct.get(key)).toString("utf8"))));
        gate.release();
        await assert.rejects(run, (err) => assertChanged(err, new RegExp(`s3://fn-data/${key.replace(/\./g, "\\.")} changed during the job`)));
        const left: string[] = [];
        for await (const o of direct.list("_smelter/")) left.push(o.key);
        assert.deepEqual(left, [], "no work prefix left");
      } finally {
        await direct.close();
      }
    });
  });

  describe("smelter sql's steps on a local directory (inline backend)", () => {
    const inline = new Manager({ backend: createBackend("inline", {}) });
    after(() => inline.close());
    /** Plans `SELECT b, sum(a) FROM t GROUP BY b` over three objects, runs `change` after the listing, then executes. */
    async function runAfter(name: string, taskBytes: number | undefined, change: (tableDir: string) => void): Promise<{ err: unknown; job?: Job; work: string }> {
      const tableDir = join(dir, name);
      mkdirSync(tableDir);
      for (let i = 0; i < 3; i++) writeFileSync(join(tableDir, `p${i}.csv`), `a,b\n${Array.from({ length: 300 }, (_, r) => `${r},${(r + i) % 7}`).join("\n")}\n`);
      const catalog = await tablesFromFlags({ table: [`t=${tableDir}/`], schema: ["t=a INTEGER, b INTEGER"] });
      const plan = await planQuery("SELECT b, sum(a) AS s FROM t GROUP BY b", catalog.tables, { workers: 2 });
      const prepared = await prepareQuery(plan, catalog.listings, { workers: 2, ...(taskBytes ? { taskBytes } : {}) });
      change(tableDir);
      const db = await openDuckDb({ threads: 1 });
      const work = join(dir, `${name}-work`);
      let job: Job | undefined;
      try {
        await executePrepared(inline, db, prepared, { work }, { onJob: (j) => (job = j) });
        return { err: undefined, work, ...(job ? { job } : {}) };
      } catch (err) {
        return { err, work, ...(job ? { job } : {}) };
      } finally {
        db.close();
      }
    }
    /** Rewrites p1.csv with other numbers of the same width: the same size, another version. */
    const rewrite = (d: string) => writeFileSync(join(d, "p1.csv"), readFileSync(join(d, "p1.csv"), "utf8").replace(/,(\d)$/gm, (_m, b: string) => `,${(Number(b) + 1) % 7}`));

    for (const c of [
      { name: "whole objects read in place by DuckDB", taskBytes: undefined },
      { name: "byte ranges copied from the objects", taskBytes: 1024 },
    ]) {
      test(`${c.name}: an object overwritten with its size fails the job naming it, nothing left`, async () => {
        const r = await runAfter(`sql-${c.taskBytes ?? "whole"}`, c.taskBytes, rewrite);
        assertChanged(r.err, /p1\.csv changed during the job/);
        assert.deepEqual(filesUnder(r.work), [], "no work prefix left");
        if (r.job) assert.equal(existsSync(jobTempDir(r.job.id)), false, "no temp directory left");
      });
    }

    test("unchanged objects: the answer, no false alarm", async () => {
      const r = await runAfter("sql-same", 1024, () => undefined);
      assert.equal(r.err, undefined, String(r.err));
    });
  });

  test("a file read in place is checked again after DuckDB read it (checkInPlaceUnchanged)", async () => {
    const d = join(dir, "in-place");
    mkdirSync(d);
    writeFileSync(join(d, "x.csv"), "1,2\n3,4\n");
    const store = localStore(d);
    const listing = await listInput(store, "");
    const files = await materializeSplits(store, listing.splits, join(dir, "in-place-tmp"), { reader: new RangedReader(store) });
    assert.equal(files[0]?.inPlace, true);
    await checkInPlaceUnchanged(store, listing.splits);
    await new Promise((r) => setTimeout(r, 20)); // past the file system clock's tick
    writeFileSync(join(d, "x.csv"), "5,6\n7,8\n");
    await assert.rejects(checkInPlaceUnchanged(store, listing.splits), /x\.csv changed during the job/);
  });
});
