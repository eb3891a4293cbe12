/**
 * The job's work store is whatever `--work URL` says, wherever the data is: local data with the
 * work store on the embedded S3 server (what remote workers need: a bucket prefix), and data on S3
 * with a local work store. Each run shuffles through the work store (`--partitions 2`), gives the
 * right answer, and leaves nothing there; a work store that cannot be written fails the query
 * with a message naming it (so the flag, not a default, decides where the work goes).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ObjectStore } from "../../src/storage/contract.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const SQL = "SELECT k, sum(v) AS total, count(*) AS n FROM t GROUP BY k ORDER BY k";

describe("--work: the job's work store, apart from the data's", () => {
  let dir: string;
  let server: S3Server;
  let work: ObjectStore;
  const expected: { k: string; total: number; n: number }[] = [];
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, "sql", SQL, "--format", "json", "--partitions", "2", "--backend", "threads", "--workers", "2", "--quiet", ...args], {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, ...server.env },
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-work-store-"));
    mkdirSync(join(dir, "t"));
    const sums = new Map<string, { total: number; n: number }>();
    for (let f = 0; f < 3; f++) {
      const rows: string[] = [];
      for (let i = 0; i < 40; i++) {
        const k = `k${(f * 40 + i) % 3}`;
        const v = f * 1000 + i;
        rows.push(`${k},${v}`);
        const s = sums.get(k) ?? { total: 0, n: 0 };
        sums.set(k, { total: s.total + v, n: s.n + 1 });
      }
      writeFileSync(join(dir, "t", `part-${f}.csv`), `k,v\n${rows.join("\n")}\n`);
    }
    for (const [k, s] of [...sums].sort()) expected.push({ k, ...s });
    server = await startS3Server({ buckets: ["data", "work"] });
    const s3 = (bucket: string) => s3Store({ bucket, endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    const data = s3("data");
    for (let f = 0; f < 3; f++) await data.put(`t/part-${f}.csv`, readFileSync(join(dir, "t", `part-${f}.csv`)));
    work = s3("work");
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const keysIn = async (store: ObjectStore): Promise<string[]> => {
    const keys: string[] = [];
    for await (const o of store.list("")) keys.push(o.key);
    return keys;
  };

  test("local data, work store on S3 (a bucket prefix): right answer, nothing left in the bucket", async () => {
    const r = run("--table", `t=${join(dir, "t")}/`, "--work", "s3://work/jobs/");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), expected);
    assert.deepEqual(await keysIn(work), [], "the work prefix is deleted at the end");
  });

  test("local data, a work bucket that does not exist: the query fails naming it", () => {
    const r = run("--table", `t=${join(dir, "t")}/`, "--work", "s3://no-such-work/jobs/");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bucket "no-such-work" not found/);
  });

  test("data on S3, work store in a local directory: right answer, the directory was the one written", () => {
    const local = join(dir, "local-work");
    const r = run("--table", "t=s3://data/t/", "--work", `${local}/`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), expected);
    // The directory did not exist before: the store made it to write the job's prefix (removed whole at the end, with the emptied .smelter/).
    assert.ok(existsSync(local), "the local work store was written");
    assert.deepEqual(readdirFiles(local), [], "the work prefix is deleted at the end");
  });
});

/** Files under `root`, outside the store's own .smelter/ directory. */
function readdirFiles(root: string): string[] {
  return readdirSync(root, { recursive: true })
    .map(String)
    .filter((p) => !p.startsWith(".smelter") && statSync(join(root, p)).isFile());
}
