/**
 * A map task's Parquet input through a store (materializeSplits' sparse file): the footer is read
 * once (its bytes reused for the sparse file's tail), the needed column chunks are fetched as
 * merged GETs (ranges less than PARQUET_GAP_BYTES apart share one), and DuckDB over the sparse
 * file answers exactly as over the whole file. On real stores: a local directory (its in-place
 * path hidden, so the sparse file is built), the embedded S3 server (s3rver) and versitygw. Each
 * store counts its `get` calls; hedging is off so every GET the reader sends is one the design
 * asked for (ranged.test.ts tests hedging).
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDuckDb, sqlString, type DuckDb } from "../../src/duckdb/index.js";
import { materializeSplits, PARQUET_GAP_BYTES, PARQUET_TAIL_BYTES } from "../../src/mapreduce/materialize.js";
import { columnChunkRanges, readParquetFooter, type ParquetFooter } from "../../src/splits/parquet.js";
import type { Split } from "../../src/splits/split.js";
import type { ObjectStore, ReadOptions } from "../../src/storage/contract.js";
import { localStore } from "../../src/storage/local.js";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server } from "../../src/storage/server.js";
import { startCompleteS3Server } from "../helpers/s3-complete.js";
import { startServers } from "../helpers/test-servers.js";

const MiB = 1024 * 1024;
/** The smallest read-ahead block (readAheadFor): no merged GET is capped below it. */
const MIN_BLOCK = 8 * MiB;

type Range = { start: number; end: number };

/**
 * The test files, written by DuckDB. Their layouts (checked by the first test): `layout` has six
 * row groups of id | pad_big (above the gap threshold) | a | pad_small (below it) | b | c; `wide` has a footer longer
 * than the speculative tail read; `one` is a single row group whose last chunk runs into the tail
 * read; `tiny` fits the tail read whole.
 */
/** 32 x `n` hex characters per row, none repeated nearby (the codec cannot shrink them below the gap threshold). */
const randomHex = (n: number) => Array.from({ length: n }, (_, k) => `md5((i + ${k * 1_000_003})::VARCHAR)`).join(" || ");
const FILES: Record<string, string> = {
  layout: `SELECT i AS id, ${randomHex(5)} AS pad_big, (i % 1000)::INTEGER AS a,
             substr(md5((i * 7)::VARCHAR), 1, 6) AS pad_small, CASE WHEN i % 11 = 0 THEN NULL ELSE i / 3.0 END::DOUBLE AS b, 'k' || (i % 37) AS c
           FROM range(${6 * 20480}) t(i)`,
  wide: `SELECT ${Array.from({ length: 30 }, (_, c) => `((i * ${c + 1}) % 7)::TINYINT AS c${c}`).join(", ")} FROM range(${150 * 2048}) t(i)`,
  one: `SELECT i AS id, ${randomHex(3)} AS pad_big, hash(i)::DOUBLE / 7 AS b FROM range(50000) t(i)`,
  tiny: `SELECT i AS id, 'v' || i AS v, i % 3 = 0 AS flag FROM range(500) t(i)`,
};
const ROW_GROUP_ROWS: Record<string, number> = { layout: 20480, wide: 2048, one: 1_000_000, tiny: 2048 };

/** The cases: a file and the columns a query reads (undefined: all). */
const CASES: { name: string; file: string; columns?: string[] }[] = [
  { name: "six row groups, two of six columns: a gap below the threshold merged, the ones above not", file: "layout", columns: ["a", "b"] },
  { name: "the first column, whose chunk starts at byte 4, with two more", file: "layout", columns: ["id", "a", "b"] },
  { name: "every column: the whole data in GETs of at most the read-ahead block", file: "layout" },
  { name: "a footer longer than the speculative tail read: one more GET, then the chunks", file: "wide", columns: ["c0", "c15", "c29"] },
  { name: "one row group, its last needed chunk partly in the tail read", file: "one", columns: ["id", "b"] },
  { name: "a file smaller than the tail read: one GET in all", file: "tiny", columns: ["id", "flag"] },
];

/** A store that records its ranged GETs; `inPlace: false` hides a local store's own files (so the sparse copy is built). */
function counting(store: ObjectStore, inPlace = false): { store: ObjectStore; gets: Range[] } {
  const gets: Range[] = [];
  const get = async (key: string, options?: ReadOptions) => {
    const data = await store.get(key, options);
    const start = options?.range?.start ?? 0;
    gets.push({ start, end: start + data.byteLength });
    return data;
  };
  return { gets, store: { ...store, get, ...(inPlace ? {} : { localPath: undefined }) } };
}

/** Sorted, joined ranges. */
function union(ranges: Range[]): Range[] {
  const out: Range[] = [];
  for (const r of [...ranges].filter((x) => x.end > x.start).sort((x, y) => x.start - y.start)) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The design, stated independently: chunk bytes not in the tail read, one GET per run of ranges less than the gap threshold apart. */
function expectedChunkGets(needed: Range[], tailStart: number): number {
  const runs: Range[] = [];
  for (const r of union(needed.map((x) => ({ start: x.start, end: Math.min(x.end, tailStart) })))) {
    const last = runs[runs.length - 1];
    if (last && r.start - last.end < PARQUET_GAP_BYTES) last.end = r.end;
    else runs.push({ ...r });
  }
  assert.ok(runs.every((r) => r.end - r.start <= MIN_BLOCK), "the exact count holds when no run is longer than the smallest GET cap");
  return runs.length;
}

/** The rows DuckDB reads from `path` for `columns`, in file order, as a count and a hash. */
async function digest(db: DuckDb, path: string, columns: string[]): Promise<{ n: number; h: string }> {
  const row = columns.map((c) => `coalesce(CAST("${c}" AS VARCHAR), '<null>')`).join(` || '|' || `);
  const [r] = await db.all<{ n: bigint; h: string }>(`SELECT count(*) AS n, md5(string_agg(${row}, chr(10) ORDER BY file_row_number)) AS h FROM read_parquet(${sqlString(path)}, file_row_number = true)`);
  return { n: Number(r!.n), h: r!.h };
}

interface Fixture {
  bytes: Uint8Array;
  footer: ParquetFooter;
}

describe("Parquet column chunks through a store: the footer once, chunks in merged GETs, DuckDB's answers unchanged", () => {
  let dir = "";
  let db: DuckDb;
  const fixtures = new Map<string, Fixture>();
  const start = () =>
    startServers({
      s3rver: () => startS3Server({ buckets: ["pq-data"] }),
      versitygw: () => startCompleteS3Server({ buckets: ["pq-data"] }),
    });
  let servers: Awaited<ReturnType<typeof start>> | undefined;
  const stores: Record<string, () => ObjectStore> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-pq-gets-"));
    await mkdir(join(dir, "data"));
    db = await openDuckDb({ threads: 1 }); // one thread: the row groups come out as asked
    for (const [name, sql] of Object.entries(FILES)) {
      const path = join(dir, "data", `${name}.parquet`);
      await db.run(`COPY (${sql}) TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP_ROWS[name]})`);
      const bytes = new Uint8Array(await readFile(path));
      const local = localStore(join(dir, "data"));
      fixtures.set(name, { bytes, footer: await readParquetFooter(local, `${name}.parquet`) });
    }
    servers = await start();
    const { s3rver, versitygw } = servers;
    stores.local = () => localStore(join(dir, "data"));
    stores.s3rver = () => s3Store({ bucket: "pq-data", endpoint: s3rver.endpoint, region: s3rver.region, credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey } });
    stores.versitygw = () => s3Store({ bucket: "pq-data", endpoint: versitygw.endpoint, region: versitygw.region, credentials: { accessKeyId: versitygw.accessKeyId, secretAccessKey: versitygw.secretAccessKey } });
    for (const name of ["s3rver", "versitygw"]) {
      const store = stores[name]!();
      for (const [file, f] of fixtures) await store.put(`${file}.parquet`, f.bytes);
      await store.close();
    }
  });

  after(async () => {
    db?.close();
    await servers?.stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("the files have the layouts the cases need", () => {
    const layout = fixtures.get("layout")!;
    assert.equal(layout.footer.metadata.row_groups.length, 6);
    const gaps = (columns: string[]) => {
      const u = union(columnChunkRanges(layout.footer.metadata, columns));
      return u.slice(1).map((r, i) => r.start - u[i]!.end);
    };
    const ab = gaps(["a", "b"]);
    assert.ok(ab.some((g) => g > 0 && g < PARQUET_GAP_BYTES) && ab.some((g) => g >= PARQUET_GAP_BYTES), `gaps ${ab.join(", ")}: some below the threshold, some above`);
    assert.equal(columnChunkRanges(layout.footer.metadata, ["id"])[0]!.start, 4, "the first chunk starts right after the magic");
    const wide = fixtures.get("wide")!;
    assert.ok(wide.footer.footerBytes > PARQUET_TAIL_BYTES + 8, `wide's footer: ${wide.footer.footerBytes} bytes`);
    const one = fixtures.get("one")!;
    assert.equal(one.footer.metadata.row_groups.length, 1);
    const lastB = columnChunkRanges(one.footer.metadata, ["b"])[0]!;
    const oneTail = one.bytes.byteLength - 8 - PARQUET_TAIL_BYTES;
    assert.ok(lastB.start < oneTail && lastB.end > oneTail, "one's b chunk straddles the tail read's start");
    assert.ok(fixtures.get("tiny")!.bytes.byteLength < PARQUET_TAIL_BYTES);
  });

  for (const storeName of ["local", "s3rver", "versitygw"]) {
    describe(`on ${storeName}`, () => {
      for (const c of CASES) {
        it(c.name, async (t) => {
          const { bytes, footer } = fixtures.get(c.file)!;
          const key = `${c.file}.parquet`;
          const base = stores[storeName]!();
          const { store, gets } = counting(base);
          const info = await base.head(key);
          assert.ok(info);
          const split: Split = { key, format: "parquet", range: { start: 0, end: info.size }, fileSize: info.size, ...(info.version ? { version: info.version } : {}) };
          const reader = new RangedReader(store, { hedgeAfter: 0 });
          const out = await mkdtemp(join(dir, "task-"));
          try {
            const files = await materializeSplits(store, [split], out, { reader, ...(c.columns ? { columns: c.columns } : {}) });
            assert.equal(files.length, 1);
            assert.ok(!files[0]!.inPlace);
            const columns = c.columns ?? footer.metadata.schema.slice(1).map((s) => s.name);
            const needed = columnChunkRanges(footer.metadata, columns);
            const size = bytes.byteLength;
            const footerStart = size - footer.footerBytes;

            // The footer: one GET of the tail, one more only when the footer is longer.
            const tailStart = Math.max(0, size - 8 - PARQUET_TAIL_BYTES);
            assert.deepEqual(gets[0], { start: tailStart, end: size }, "first GET: the speculative tail read");
            const longFooter = footerStart < tailStart;
            if (longFooter) assert.deepEqual(gets[1], { start: footerStart, end: tailStart }, "second GET: the rest of the footer");
            const footerGets = longFooter ? 2 : 1;
            const chunkGets = gets.slice(footerGets);
            const heldFrom = Math.min(tailStart, footerStart);

            // The chunks: no GET touches the footer or the tail again; each is needed bytes with gaps below the threshold only.
            const neededU = union(needed);
            for (const g of chunkGets) {
              assert.ok(g.end <= heldFrom, `GET ${g.start}-${g.end} reads bytes the tail read held`);
              const inside = neededU.filter((r) => r.end > g.start && r.start < g.end);
              assert.ok(inside.length > 0 && inside[0]!.start <= g.start && inside[inside.length - 1]!.end >= g.end, `GET ${g.start}-${g.end} starts and ends in needed bytes`);
              for (let i = 1; i < inside.length; i++) assert.ok(inside[i]!.start - inside[i - 1]!.end < PARQUET_GAP_BYTES, `GET ${g.start}-${g.end} reads a gap of ${inside[i]!.start - inside[i - 1]!.end} bytes`);
            }
            // Every needed byte was fetched.
            const fetched = union([...chunkGets, { start: heldFrom, end: size }]);
            for (const r of neededU) assert.ok(fetched.some((f) => f.start <= r.start && f.end >= r.end), `needed bytes ${r.start}-${r.end} fetched`);
            if (c.columns) assert.equal(chunkGets.length, expectedChunkGets(needed, heldFrom), `chunk GETs: ${JSON.stringify(chunkGets)}`);
            else assert.ok(chunkGets.length >= Math.ceil((heldFrom - 4) / (32 * MiB)) && chunkGets.length <= Math.ceil((heldFrom - 4) / MIN_BLOCK) + 1);
            for (const g of chunkGets) assert.ok(g.end - g.start <= 32 * MiB, "no GET over the largest block");
            // Before: a footer read, the tail read again, and one GET per chunk.
            const before = (longFooter ? 2 : 1) + 1 + needed.filter((r) => r.end > r.start).length;
            assert.ok(gets.length < before, `${gets.length} GETs, ${before} before`);
            t.diagnostic(`${gets.length} GETs (${before} before this change), ${reader.stats.bytesRead} bytes fetched for ${neededU.reduce((n, r) => n + r.end - r.start, 0) + footer.footerBytes} needed`);

            // bytesRead: what was fetched, gaps and the speculative tail included.
            const got = gets.reduce((n, g) => n + g.end - g.start, 0);
            assert.equal(reader.stats.bytesRead, got);
            assert.equal(reader.stats.readRequests, gets.length);

            // The sparse file: the magic, the footer and the needed chunks as in the object; holes stay holes.
            const sparse = new Uint8Array(await readFile(files[0]!.path));
            assert.equal(sparse.byteLength, size);
            const kept = union([{ start: 0, end: 4 }, ...needed, { start: footerStart, end: size }]);
            let at = 0;
            for (const r of kept) {
              assert.ok(sparse.subarray(at, r.start).every((b) => b === 0), `bytes ${at}-${r.start} are a hole`);
              assert.ok(Buffer.from(sparse.subarray(r.start, r.end)).equals(bytes.subarray(r.start, r.end)), `bytes ${r.start}-${r.end} as in the object`);
              at = r.end;
            }

            // DuckDB over the sparse file answers as over the whole object.
            const original = join(dir, "data", key);
            const want = await digest(db, original, columns);
            assert.ok(want.n > 0);
            assert.deepEqual(await digest(db, files[0]!.path, columns), want);
          } finally {
            await rm(out, { recursive: true, force: true });
            await base.close();
          }
        });
      }
    });
  }

  it("a chunk GET failing: the other GETs are aborted and waited for, and the task fails with its error", async () => {
    const base = localStore(join(dir, "data"));
    const { bytes } = fixtures.get("layout")!;
    let calls = 0;
    let inFlight = 0;
    let aborted = 0;
    const failure = new Error("the second GET failed");
    const get = async (key: string, options?: ReadOptions) => {
      const call = ++calls;
      inFlight++;
      try {
        if (call === 1) return await base.get(key, options); // the tail
        // Chunk GETs: the first fails soon, the others would take long unless aborted.
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => (clearTimeout(timer), aborted++, reject(options!.signal!.reason));
          const timer = setTimeout(() => (options?.signal?.removeEventListener("abort", onAbort), resolve()), call === 2 ? 20 : 5_000);
          options?.signal?.addEventListener("abort", onAbort, { once: true });
        });
        if (call === 2) throw failure;
        return await base.get(key, options);
      } finally {
        inFlight--;
      }
    };
    const store: ObjectStore = { ...base, get, localPath: undefined };
    const split: Split = { key: "layout.parquet", format: "parquet", range: { start: 0, end: bytes.byteLength }, fileSize: bytes.byteLength };
    const out = await mkdtemp(join(dir, "task-"));
    try {
      await assert.rejects(materializeSplits(store, [split], out, { reader: new RangedReader(store, { hedgeAfter: 0 }), columns: ["a", "b"] }), (err) => err === failure);
      assert.ok(calls >= 3, `${calls} GETs: several chunk GETs ran at once`);
      assert.equal(aborted, calls - 2, "every other chunk GET was aborted");
      assert.equal(inFlight, 0, "no GET still running once the task failed");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("read in place (a local store's own file): the footer read once, and the bytes DuckDB reads counted", async () => {
    const { store, gets } = counting(localStore(join(dir, "data")), true);
    const { bytes, footer } = fixtures.get("layout")!;
    const info = await store.head("layout.parquet");
    const split: Split = { key: "layout.parquet", format: "parquet", range: { start: 0, end: bytes.byteLength }, fileSize: bytes.byteLength, ...(info?.version ? { version: info.version } : {}) };
    let inPlaceBytes = 0;
    const out = await mkdtemp(join(dir, "task-"));
    try {
      const files = await materializeSplits(store, [split], out, { reader: new RangedReader(store), columns: ["a", "b"], onInPlaceBytes: (n) => (inPlaceBytes += n) });
      assert.equal(files[0]?.inPlace, true);
      assert.equal(gets.length, 1, `GETs: ${JSON.stringify(gets)}`);
      const needed = columnChunkRanges(footer.metadata, ["a", "b"]).reduce((n, r) => n + r.end - r.start, 0);
      assert.equal(inPlaceBytes, footer.footerBytes + needed);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
