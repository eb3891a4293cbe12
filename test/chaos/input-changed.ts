/**
 * An input object overwritten mid-job, through the real CLI on S3 (the suite; the test files
 * input-changed-versitygw and input-changed-s3rver run it on one server each): `smelter query2` and
 * `smelter sql` against versitygw (which answers If-Match with 412) and the embedded s3rver
 * (which ignores If-Match: the response's ETag is compared). The fault proxy holds the workers'
 * first input read (a GET carrying If-Match: after the listing and the planning, before any byte
 * of the input is read), the test overwrites that object directly on the server, then lets the
 * read go. The job must fail with exit 1 and Smelter's message naming the object, with no stack
 * trace, no output object and nothing left behind. The same jobs over unchanged inputs (one of
 * them uploaded in two parts, its ETag `...-2` on versitygw) give the same result as over a local
 * copy: no false alarm.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ObjectStore } from "../../src/storage/contract.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server } from "../../src/storage/server.js";
import { startCompleteS3Server } from "../helpers/s3-complete.js";
import { startFaultProxy } from "../tooling/fault-proxy.js";
import { allLeftovers, generateTables, runCli, s3Env, tempLeftovers } from "./harness.js";

const MiB = 1024 * 1024;
const MULTIPART_KEY = "uv/multipart-00000";

interface Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** ListMultipartUploads works (versitygw). */
  complete: boolean;
  stop(): Promise<void>;
}

export const SERVERS = {
  versitygw: async (): Promise<Server> => ({ ...(await startCompleteS3Server({ buckets: ["data", "out"] })), complete: true }),
  s3rver: async (): Promise<Server> => {
    const s = await startS3Server({ buckets: ["data", "out"] });
    return { ...s, complete: false, stop: () => s.stop() };
  },
};

/** The object a proxied GetObject names (path style: /bucket/key). */
function objectOf(req: IncomingMessage): { bucket: string; key: string } {
  const parts = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).split("/");
  return { bucket: parts[1] ?? "", key: parts.slice(2).join("/") };
}

/** The suite on one server (one test file each: input-changed-*.test.ts). */
export function inputChangedSuite(kind: keyof typeof SERVERS): void {
  describe(`an input overwritten mid-job fails the job loudly (real CLI, ${kind})`, () => {
    let server: Server;
    let data: ObjectStore;
    let out: ObjectStore;
    let local: string;
    let inputs = new Set<string>();

    before(async () => {
      server = await SERVERS[kind]();
      const open = (bucket: string) => s3Store({ bucket, endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
      data = open("data");
      out = open("out");
      local = mkdtempSync(join(tmpdir(), "smelter-pinned-"));
      inputs = await generateTables(local, data, [{ table: "uservisits", dir: "uv", rows: 6000, files: 3 }]);
      // One more object uploaded in two parts: a multipart ETag ("...-2" on versitygw).
      const big = await generateTables(join(local, "big"), data, [{ table: "uservisits", dir: "uvbig", rows: 40000, files: 1 }]);
      const bigKey = [...big][0]!;
      const body = readFileSync(join(local, "big", bigKey));
      await data.delete(bigKey);
      assert.ok(body.byteLength > 5 * MiB, `the multipart object needs two parts (${body.byteLength} bytes)`);
      const key = MULTIPART_KEY;
      await putInput(key, body);
      inputs.add(key);
      if (server.complete) assert.match((await data.head(key))?.etag ?? "", /-2"?$/, "a multipart ETag");
      // The local copy the unchanged runs are compared with, and the originals put back after an overwrite.
      writeFileSync(join(local, key), body);
    });
    after(async () => {
      await data?.close();
      await out?.close();
      await server?.stop();
      if (local) rmSync(local, { recursive: true, force: true });
    });

    /** Puts an input as it was made: the multipart object in two parts. */
    const putInput = async (key: string, body: Uint8Array) => {
      if (key !== MULTIPART_KEY) return void (await data.put(key, body));
      const mp = data.multipart!;
      const id = await mp.create(key);
      await mp.complete(key, id, [await mp.uploadPart(key, id, 1, body.subarray(0, 5 * MiB)), await mp.uploadPart(key, id, 2, body.subarray(5 * MiB))]);
    };
    const stores = () => (server.complete ? [data, out] : []);
    const leftovers = async (run: ReturnType<typeof runCli>) => [
      ...(await allLeftovers(run, stores(), (k) => inputs.has(k))),
      // s3rver has no ListMultipartUploads: its objects are listed by hand.
      ...(server.complete ? [] : await objectsBut(data, inputs)),
      ...(server.complete ? [] : await objectsBut(out, new Set())),
    ];

    const commands = {
      query2: (uv: string, extra: string[]) => ["query2", "--input", uv, "--task-bytes", "1500000", "--partitions", "2", "--workers", "2", "--quiet", "--format", "csv", ...extra],
      sql: (uv: string, extra: string[]) => ["sql", "SELECT countryCode, count(*) AS n, sum(adRevenue) AS r FROM uv GROUP BY countryCode ORDER BY countryCode", "--table", `uv=${uv}`, "--schema", "uv=bdb:uservisits", "--task-bytes", "1500000", "--workers", "2", "--quiet", "--format", "csv", ...extra],
    };

    for (const [name, args] of Object.entries(commands)) {
      test(`smelter ${name} over unchanged inputs (a multipart object among them) gives the local copy's result`, async () => {
        const s3 = runCli(args("s3://data/uv/", []), s3Env(server));
        const fromLocal = runCli(args(join(local, "uv") + "/", []), {});
        const [a, b] = [await s3.exited, await fromLocal.exited];
        assert.equal(a.code, 0, s3.stderr());
        assert.equal(b.code, 0, fromLocal.stderr());
        assert.ok(s3.stdout().split("\n").length > 10, s3.stdout());
        assertSameCsv(s3.stdout(), fromLocal.stdout());
        assert.deepEqual(await leftovers(s3), []);
      });

      test(`smelter ${name}: an input overwritten between the listing and the workers' read: exit 1, the object named, nothing left`, async () => {
        const proxy = await startFaultProxy({ target: server.endpoint, seed: 1 });
        const gate = proxy.hold((req) => req.method === "GET" && req.headers["if-match"] !== undefined);
        let changed = "";
        try {
          const run = runCli(args("s3://data/uv/", ["--output", `s3://out/${name}.csv`]), s3Env({ ...server, endpoint: proxy.endpoint }));
          const held = await Promise.race([gate.first, run.exited.then(() => undefined)]);
          assert.ok(held, `the workers read the input: ${run.stderr()}`);
          const { bucket, key } = objectOf(held);
          assert.equal(bucket, "data");
          changed = key;
          // Another object's bytes: a new ETag (and, for the multipart object, another size).
          const other = [...inputs].find((k) => k !== key)!;
          await data.put(key, await data.get(other));
          gate.release();
          const exit = await run.exited;
          const err = run.stderr();
          process.stderr.write(`[input-changed] ${kind} ${name}: exit ${exit.code}; stderr:\n${err}\n`);
          assert.equal(exit.code, 1, err);
          assert.match(err, /^\[smelter\]/m);
          assert.match(err, new RegExp(`s3://data/${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} changed during the job`));
          assert.match(err, /rerun it once the input stops changing/);
          assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
          assert.equal(await out.head(`${name}.csv`), undefined, "no output object");
          assert.deepEqual(await leftovers(run), []);
          assert.deepEqual(tempLeftovers(run.dirs.tmp), []);
        } finally {
          gate.release();
          await proxy.stop();
          // Put the original back for the next test.
          if (changed) await putInput(changed, readFileSync(join(local, changed)));
        }
      });
    }
  });
}

/** Keys in `store` other than `keep`. */
async function objectsBut(store: ObjectStore, keep: Set<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const o of store.list("")) if (!keep.has(o.key)) found.push(`${store.url}/${o.key}`);
  return found;
}

/** The same rows, sums compared as test/differential does (relative 1e-9: the tasks may add in another order). */
/** The same rows, in any order (query2's result has no ORDER BY): the header first, then the rows sorted. */
function assertSameCsv(got: string, want: string): void {
  const rows = (csv: string) => {
    const [header = "", ...rest] = csv.trim().split("\n");
    return [header, ...rest.sort()];
  };
  const [a, b] = [rows(got), rows(want)];
  assert.equal(a.length, b.length, "as many rows");
  for (const [i, line] of a.entries()) {
    const [x, y] = [line.split(","), b[i]!.split(",")];
    assert.equal(x.length, y.length, `row ${i}: ${line} vs ${b[i]}`);
    for (const [j, f] of x.entries()) {
      const [u, v] = [Number(f), Number(y[j])];
      if (f === y[j] || (f !== "" && Number.isFinite(u) && Number.isFinite(v) && Math.abs(u - v) <= 1e-9 * Math.max(1, Math.abs(v)))) continue;
      assert.fail(`row ${i}: ${line} vs ${b[i]}`);
    }
  }
}
