/** Small generated uservisits datasets (CSV and Parquet) for tests, and DuckDB's own answer to compare with. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDataset } from "../../src/datagen/write.js";
import type { DuckDb } from "../../src/duckdb/index.js";
import { localStore } from "../../src/storage/local.js";

export async function makeUservisits(rows: number, files: number): Promise<{ dir: string; csv: string; parquet: string }> {
  const dir = mkdtempSync(join(tmpdir(), "smelter-uv-"));
  const store = localStore(dir);
  await writeDataset(store, { table: "uservisits", rows, files, format: "csv", seed: 11, pages: Math.max(10, rows / 10), prefix: "csv/" });
  await writeDataset(store, { table: "uservisits", rows, files, format: "parquet", seed: 11, pages: Math.max(10, rows / 10), prefix: "parquet/", rowGroupRows: Math.ceil(rows / files / 3) });
  return { dir, csv: join(dir, "csv/"), parquet: join(dir, "parquet/") };
}

const COLUMNS = `{'sourceIP':'VARCHAR','destURL':'VARCHAR','visitDate':'DATE','adRevenue':'FLOAT','userAgent':'VARCHAR','countryCode':'VARCHAR','languageCode':'VARCHAR','searchWord':'VARCHAR','duration':'INTEGER'}`;

/** Compares table `result` in `db` with DuckDB alone on the same files. */
export async function compareWithDuckDb(db: DuckDb, dir: string, format: "csv" | "parquet", prefixLen: number) {
  const src = format === "csv" ? `read_csv('${dir}part-*', header = false, delim = ',', quote = '', escape = '', columns = ${COLUMNS})` : `read_parquet('${dir}*.parquet')`;
  const [row] = await db.all<{ expected: bigint; got: bigint; found: bigint; maxRel: number | null }>(`
    WITH d AS (SELECT substr(sourceIP, 1, ${prefixLen}) AS prefix, sum(adRevenue) AS s FROM ${src} GROUP BY 1)
    SELECT (SELECT count(*) FROM d) AS expected, (SELECT count(*) FROM result) AS got,
           count(r.prefix) AS found, max(abs(r.adRevenue - d.s) / greatest(abs(d.s), 1e-12)) AS maxRel
    FROM d LEFT JOIN result r USING (prefix)`);
  return { expected: Number(row!.expected), got: Number(row!.got), found: Number(row!.found), maxRel: row!.maxRel ?? 0 };
}
