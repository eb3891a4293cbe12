/**
 * Small tables for SQL tests, several files each (one split per file): generated uservisits (CSV
 * and Parquet) and rankings (CSV, and the same rows as Parquet), a Parquet table full of NULLs (one
 * of its files empty), a Parquet table of DECIMAL, BIGINT (sums beyond 2^63), DATE, TIMESTAMP and
 * VARCHAR columns, and an empty table.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDataset } from "../../src/datagen/write.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { sqlString } from "../../src/duckdb/sql.js";
import { BDB_SCHEMAS, type SqlTableInput } from "../../src/sql/tables.js";
import { localStore } from "../../src/storage/local.js";

export const NULLS_COLUMNS = [
  { name: "g", type: "VARCHAR" },
  { name: "x", type: "INTEGER" },
  { name: "y", type: "DOUBLE" },
  { name: "d", type: "DATE" },
  { name: "s", type: "VARCHAR" },
];

export const TYPED_COLUMNS = [
  { name: "k", type: "VARCHAR" },
  { name: "amount", type: "DECIMAL(18,3)" },
  { name: "big", type: "BIGINT" },
  { name: "d", type: "DATE" },
  { name: "ts", type: "TIMESTAMP" },
  { name: "s", type: "VARCHAR" },
];

export interface SqlTestData {
  dir: string;
  tables: SqlTableInput[];
  files: Record<string, string[]>;
}

const listFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith("part-")).sort().map((f) => join(dir, f));
const bytesOf = (files: string[]) => files.reduce((s, f) => s + statSync(f).size, 0);

export async function makeSqlTestData(opts: { uservisits?: number; rankings?: number } = {}): Promise<SqlTestData> {
  const dir = mkdtempSync(join(tmpdir(), "smelter-sql-"));
  const store = localStore(dir);
  const uv = opts.uservisits ?? 4000;
  const pages = opts.rankings ?? 400;
  await writeDataset(store, { table: "uservisits", rows: uv, files: 4, format: "csv", seed: 5, pages, prefix: "uv-csv/", concurrency: 1 });
  await writeDataset(store, { table: "uservisits", rows: uv, files: 3, format: "parquet", seed: 6, pages, prefix: "uv-parquet/", concurrency: 1, rowGroupRows: 4096 });
  await writeDataset(store, { table: "rankings", rows: pages, files: 3, format: "csv", seed: 5, pages, prefix: "rk-csv/", concurrency: 1 });
  await writeDataset(store, { table: "rankings", rows: pages, files: 3, format: "parquet", seed: 5, pages, prefix: "rk-parquet/", concurrency: 1 });
  const db = await openDuckDb({ threads: 1 });
  try {
    await db.run(`CREATE TABLE n AS SELECT i,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'g' || (i % 5) END AS g,
        CASE WHEN i % 3 = 0 OR i % 5 = 4 THEN NULL ELSE (i % 11)::INTEGER END AS x,
        CASE WHEN i % 4 = 1 THEN NULL ELSE i * 0.37 END::DOUBLE AS y,
        CASE WHEN i % 6 = 0 THEN NULL ELSE DATE '2020-01-01' + i::INTEGER END AS d,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 'w' || (i % 13) END AS s
      FROM range(0, 240) t(i)`);
    for (let k = 0; k < 4; k++) {
      const file = join(dir, `nulls-part-${k}.parquet`);
      await db.run(`COPY (SELECT g, x, y, d, s FROM n WHERE i % 4 = ${k} AND ${k} < 3) TO ${sqlString(file)} (FORMAT parquet)`);
    }
    for (let k = 0; k < 3; k++) await db.run(`COPY (SELECT g, x, y, d, s FROM n WHERE false) TO ${sqlString(join(dir, `empty-${k}.parquet`))} (FORMAT parquet)`);
    await db.run(`CREATE TABLE typed AS SELECT i,
        'k' || (i % 4) AS k,
        CASE WHEN i % 9 = 0 THEN NULL ELSE ((i * 7919) % 100003 - 50000) * 1.001 END::DECIMAL(18,3) AS amount,
        CASE WHEN i % 11 = 0 THEN NULL ELSE 3000000000000000000 + i * 1000003 END::BIGINT AS big,
        CASE WHEN i % 13 = 0 THEN NULL ELSE DATE '1999-12-01' + ((i * 37) % 900)::INTEGER END AS d,
        TIMESTAMP '2020-02-28 23:59:58' + INTERVAL (i * 3607) SECOND AS ts,
        CASE WHEN i % 17 = 0 THEN NULL ELSE 'v' || ((i * 31) % 97) END AS s
      FROM range(0, 300) t(i)`);
    for (let k = 0; k < 3; k++) await db.run(`COPY (SELECT k, amount, big, d, ts, s FROM typed WHERE i % 3 = ${k}) TO ${sqlString(join(dir, `typed-part-${k}.parquet`))} (FORMAT parquet)`);
  } finally {
    db.close();
  }
  const files: Record<string, string[]> = {
    uservisits: listFiles(join(dir, "uv-csv")),
    uv_parquet: listFiles(join(dir, "uv-parquet")),
    rankings: listFiles(join(dir, "rk-csv")),
    rk_parquet: listFiles(join(dir, "rk-parquet")),
    typed: [0, 1, 2].map((k) => join(dir, `typed-part-${k}.parquet`)),
    nulls: [0, 1, 2, 3].map((k) => join(dir, `nulls-part-${k}.parquet`)),
    empty: [0, 1, 2].map((k) => join(dir, `empty-${k}.parquet`)),
  };
  // Real URLs (prefixes and globs of the files above): the engine lists them.
  const urls: Record<string, string> = { uservisits: `${dir}/uv-csv/`, uv_parquet: `${dir}/uv-parquet/`, rankings: `${dir}/rk-csv/`, rk_parquet: `${dir}/rk-parquet/`, typed: `${dir}/typed-part-*.parquet`, nulls: `${dir}/nulls-part-*.parquet`, empty: `${dir}/empty-*.parquet` };
  const def = (name: string, format: "csv" | "parquet", columns: { name: string; type: string }[]): SqlTableInput => ({ name, url: urls[name]!, format, columns, bytes: bytesOf(files[name]!), splits: files[name]!.length });
  return {
    dir,
    files,
    tables: [
      def("uservisits", "csv", BDB_SCHEMAS.uservisits!),
      def("uv_parquet", "parquet", BDB_SCHEMAS.uservisits!),
      def("rankings", "csv", BDB_SCHEMAS.rankings!),
      def("rk_parquet", "parquet", BDB_SCHEMAS.rankings!),
      def("typed", "parquet", TYPED_COLUMNS),
      def("nulls", "parquet", NULLS_COLUMNS),
      def("empty", "parquet", NULLS_COLUMNS),
    ],
  };
}
