/**
 * `datagen` with a huge --rows: refused up front when the target cannot hold it (free space of a
 * local directory, one S3 upload's size), and otherwise streamed with bounded memory, writing as
 * it goes. Before, a trillion rows listed 15 million PRNG blocks (and copied them to every worker)
 * before the first byte: 2 GB of memory in 20 s and nothing written.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { blockCount, blockRange } from "../../src/datagen/source.js";
import { BLOCK_ROWS } from "../../src/datagen/uservisits.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dist = new URL("../../src/", import.meta.url).href;

describe("datagen: huge row counts", () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-datagen-bounded-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("--rows 1e12 to a local directory is refused before writing: the size, the free space, what to do", () => {
    const out = join(dir, "refused");
    const r = spawnSync(process.execPath, [bin, "datagen", "uservisits", "--rows", "1e12", "--out", out], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^\[smelter\] datagen: 1,000,000,000,000 uservisits rows are about \d+ TB as csv, but .* has .* free: generate fewer --rows/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.ok(!existsSync(out) || readdirSync(out).every((f) => !f.startsWith("part-")), "nothing written");
  });

  test("one S3 object too large for a streamed upload is refused with the --files to pass", () => {
    const r = spawnSync(process.execPath, [bin, "datagen", "rankings", "--rows", "1e10", "--out", "s3://bucket/x"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9" } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /per file, more than one S3 upload of 10,000 parts of 8 MiB holds .*: pass --files \d+ or more/);
  });

  test("a trillion rows stream: bytes written as generated, memory bounded (stopped after 200,000 rows)", () => {
    const out = join(dir, "streamed");
    const script = `
      import { readdirSync, statSync } from "node:fs";
      import { join } from "node:path";
      const { writeDataset } = await import(${JSON.stringify(`${dist}datagen/write.js`)});
      const { localStore } = await import(${JSON.stringify(`${dist}storage/local.js`)});
      const ac = new AbortController();
      let maxRss = 0, rows = 0, tempBytes = 0;
      const tmp = join(${JSON.stringify(out)}, ".smelter", "tmp");
      const onProgress = (n) => {
        rows = n;
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
        try {
          for (const f of readdirSync(tmp)) tempBytes = Math.max(tempBytes, statSync(join(tmp, f)).size);
        } catch {} // not made yet, or renamed away

        if (n >= 200000) ac.abort();
      };
      let stopped = "";
      try {
        await writeDataset(localStore(${JSON.stringify(out)}), { table: "uservisits", rows: 1e12, files: 1, format: "csv", seed: 1, pages: 1.2e11, prefix: "", concurrency: 2, onProgress, signal: ac.signal });
      } catch (e) { stopped = e.name + ": " + e.message; }
      console.log(JSON.stringify({ rows, maxRss, tempBytes, stopped, left: readdirSync(tmp).length }));
    `;
    // A file, not --eval: the generator's worker threads inherit the parent's execArgv.
    const file = join(dir, "stream.mjs");
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 90_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!) as { rows: number; maxRss: number; tempBytes: number; stopped: string; left: number };
    assert.match(got.stopped, /^AbortError/);
    assert.ok(got.rows >= 200_000, `rows generated: ${got.rows}`);
    assert.ok(got.tempBytes > 1_000_000, `bytes were written as they were generated: ${got.tempBytes}`);
    assert.ok(got.maxRss < 500e6, `memory stays bounded: max RSS ${(got.maxRss / 1e6).toFixed(0)} MB`);
    assert.equal(got.left, 0, "the stopped write left no temp file");
  });

  test("block ranges are computed, not listed: first, middle and last of a trillion rows", () => {
    const spec = { startRow: 1000, rows: 1e12 };
    const n = blockCount(spec);
    assert.equal(n, Math.floor((1000 + 1e12 - 1) / BLOCK_ROWS) + 1);
    assert.deepEqual(blockRange(spec, 0), [1000, BLOCK_ROWS - 1000]);
    assert.deepEqual(blockRange(spec, 5), [5 * BLOCK_ROWS, BLOCK_ROWS]);
    const [s, r] = blockRange(spec, n - 1);
    assert.equal(s + r, 1000 + 1e12);
    assert.equal(blockCount({ startRow: 7, rows: 0 }), 0);
  });
});
