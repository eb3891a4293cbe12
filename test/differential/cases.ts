/**
 * A differential case from (seed, family): everything the run does is drawn from the seed, so
 * `npm run fuzz -- --seed N --case FAMILY` replays it exactly. A family fixes the path (sql,
 * query2, functions) and the kind of input; the seed draws the input flags, the query, the
 * backend, the store, R (`--partitions`) and the task size.
 */
import { caseSeed, Rng } from "./rng.js";
import { drawFlags, type FileFormat, type InputFlags, type TableName } from "./generate.js";
import { FUNCTION_SQL } from "./workers.js";

export type PathName = "sql" | "query2" | "functions";

export interface TableSpec {
  name: TableName;
  flags: InputFlags;
  files: number;
  maxRows: number;
}

export interface CaseSpec {
  family: string;
  seed: number;
  path: PathName;
  backend: "threads" | "processes";
  storage: "local" | "s3";
  tables: TableSpec[];
  /** sql: columns from `--schema` (given) or read from the data (sniffed). */
  schema: "given" | "sniffed";
  /** The query DuckDB alone runs (and `smelter sql` too). */
  sql: string;
  label: string;
  /** Row order is compared (ORDER BY fixes it). */
  ordered: boolean;
  /** R; undefined: the path's default. */
  partitions: number | undefined;
  /** Input bytes per (leaf / map) task. */
  taskBytes: number | undefined;
  join: "auto" | "broadcast" | "partitioned";
  /** query2: X of SUBSTR(sourceIP, 1, X). */
  prefixLen: number;
  /** sql / query2: through the command's own function (runSqlCli / runQuery2Cli: its flags, its own worker pool), not the library calls on the suite's shared pool. */
  viaCli: boolean;
  /** sql / query2 on the shared pool: the split tasks' combine of partial aggregates (auto: sampled; skip: one row of partials per input row; always). By seed, not drawn, so earlier seeds draw the same cases. */
  combine: "auto" | "skip" | "always";
}

type Template = (r: Rng) => [label: string, sql: string, ordered: boolean];

/** Queries over table t (k VARCHAR, g BIGINT, x BIGINT, y DOUBLE, s VARCHAR, d DATE). */
const T_QUERIES: Template[] = [
  (r) => ["scan", `SELECT k, g, x, y, s, d FROM t WHERE g > ${r.int(-3, 3)} OR y < 0`, false],
  () => ["scan *", "SELECT * FROM t", false],
  (r) => ["top-k", `SELECT k, x, s, d FROM t WHERE y IS NOT NULL ORDER BY x DESC NULLS LAST, k NULLS FIRST, s NULLS FIRST, d NULLS FIRST LIMIT ${r.int(1, 12)}`, true],
  () => ["global aggregates", "SELECT count(*), count(y), sum(x), sum(y), avg(y), min(x), max(y), min(s), max(k), min(d), max(d), avg(g) FROM t", false],
  () => ["grouped", "SELECT k, count(*), sum(x), sum(y), avg(y), min(d), max(s), count(g) FROM t GROUP BY k", false],
  (r) => ["grouped HAVING ORDER BY LIMIT", `SELECT k, g, count(*) AS n, sum(y) AS sy, max(x) AS mx FROM t WHERE x > ${r.int(-100, 10)} GROUP BY k, g HAVING count(*) >= ${r.int(1, 3)} ORDER BY n DESC, k NULLS FIRST, g NULLS FIRST LIMIT ${r.int(1, 8)}`, true],
  () => ["count distinct", "SELECT g, count(DISTINCT k) AS keys, count(*) FROM t GROUP BY g", false],
  () => ["distinct", "SELECT DISTINCT k, g FROM t", false],
  (r) => ["unicode substr groups", `SELECT substr(s, 1, ${r.int(1, 4)}) AS p, count(*), sum(x), min(y) FROM t GROUP BY p`, false],
  () => ["year groups, ORDER BY", "SELECT year(d) AS yr, count(*) AS n, sum(y) AS sy FROM t GROUP BY yr ORDER BY yr NULLS FIRST", true],
  () => ["filter keeps nothing", "SELECT k, sum(x) FROM t WHERE g > 100 GROUP BY k", false],
  () => ["functions totals", FUNCTION_SQL, false],
];

/** Queries over t and u (k VARCHAR, w BIGINT). */
const JOIN_QUERIES: Template[] = [
  () => ["join grouped", "SELECT t.k, count(*), sum(u.w), sum(t.x) FROM t JOIN u ON t.k = u.k GROUP BY t.k", false],
  (r) => ["left join scan", `SELECT t.s, t.y, u.w FROM t LEFT JOIN u ON t.k = u.k WHERE t.g >= ${r.int(-3, 3)}`, false],
  () => ["join global", "SELECT count(*), sum(u.w), max(t.d), avg(t.y) FROM t JOIN u ON t.k = u.k", false],
  (r) => ["join ORDER BY LIMIT", `SELECT u.k, sum(t.y) AS sy, count(*) AS n FROM u JOIN t ON u.k = t.k GROUP BY u.k ORDER BY n DESC, u.k LIMIT ${r.int(1, 5)}`, true],
];

/** The families: name -> how a case of it is drawn. */
export const FAMILIES: Record<string, (r: Rng) => Partial<CaseSpec> & { path: PathName; tables: TableSpec[] }> = {
  "sql-csv": (r) => ({ path: "sql", tables: [table(r, "t", "csv")] }),
  "sql-csv-headerless": (r) => ({ path: "sql", tables: [table(r, "t", "csv", { header: false })] }),
  "sql-ndjson": (r) => ({ path: "sql", tables: [table(r, "t", "ndjson")] }),
  "sql-parquet": (r) => ({ path: "sql", tables: [table(r, "t", "parquet")] }),
  "sql-join": (r) => ({ path: "sql", tables: [table(r, "t", r.pick(["csv", "parquet", "csv", "ndjson"] as const)), table(r, "u", r.pick(["csv", "parquet", "ndjson"] as const))] }),
  query2: (r) => ({ path: "query2", tables: [table(r, "uservisits", r.pick(["csv", "csv", "parquet"] as const), { header: false })] }),
  "fn-csv": (r) => ({ path: "functions", tables: [table(r, "t", "csv")] }),
  "fn-ndjson": (r) => ({ path: "functions", tables: [table(r, "t", "ndjson", { safeIntegers: true })] }),
  "fn-parquet": (r) => ({ path: "functions", tables: [table(r, "t", "parquet")] }),
};

function table(r: Rng, name: TableName, format: FileFormat, o: { header?: boolean; safeIntegers?: boolean } = {}): TableSpec {
  return { name, flags: drawFlags(r, format, o), files: r.int(1, 4), maxRows: r.pick([3, 20, 60, 150]) };
}

/** The case `family` draws for `seed`. */
export function drawCase(seed: number, family: string): CaseSpec {
  const make = FAMILIES[family];
  if (!make) throw new Error(`unknown case ${family}: one of ${Object.keys(FAMILIES).join(", ")}`);
  const r = new Rng(caseSeed(seed, family));
  const base = make(r);
  const path = base.path;
  const [label, sql, ordered] = path === "functions" ? ["functions totals", FUNCTION_SQL, false] as const : r.pick(base.tables.length > 1 ? JOIN_QUERIES : T_QUERIES)(r);
  const prefixLen = r.int(1, 15);
  // Task sizes: a few bytes (many tiny ranges) up to whole files; the APIs of query2 and functions take at least 1 KiB.
  const taskBytes = path === "sql" ? r.pick([undefined, 5, 37, 200, 1024, 4096]) : r.pick([undefined, 1024, 2048, 8192]);
  // Tiny ranges make many tasks: keep those inputs small.
  if (taskBytes !== undefined && taskBytes < 1024) for (const t of base.tables) t.maxRows = Math.min(t.maxRows, taskBytes < 100 ? 12 : 40);
  const tables = base.tables;
  const header = tables.every((t) => t.flags.format !== "csv" || t.flags.header);
  return {
    family,
    seed,
    path,
    backend: r.chance(0.3) ? "processes" : "threads",
    storage: r.chance(0.25) ? "s3" : "local",
    tables,
    schema: header && r.chance(0.5) ? "sniffed" : "given",
    sql: path === "query2" ? `SELECT substr(sourceIP, 1, ${prefixLen}) AS prefix, sum(adRevenue) AS adRevenue FROM uservisits GROUP BY 1` : sql,
    label: path === "query2" ? `Query 2, X = ${prefixLen}` : label,
    ordered: path === "query2" ? false : ordered,
    partitions: r.chance(0.25) ? undefined : r.int(1, 16),
    taskBytes,
    join: tables.length > 1 ? r.pick(["auto", "broadcast", "partitioned"] as const) : "auto",
    prefixLen,
    // The CLI's flags take task bytes of 1 KiB or more.
    viaCli: path !== "functions" && (taskBytes === undefined || taskBytes >= 1024) && r.chance(0.25),
    combine: (["skip", "auto", "always"] as const)[Math.abs(seed) % 3]!,
  };
}
