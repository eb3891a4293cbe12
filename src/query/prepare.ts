/**
 * A plan made physical: every stage's tasks, known before anything runs. A leaf stage's tasks are
 * packed groups of its table's splits, from the table's ONE listing (the catalog's, handed over:
 * src/sql/catalog.ts, or {@link listTables}); a partitioned stage has one task per partition, a
 * single-task stage one. `smelter explain` prints exactly this, and `executePrepared` runs it, so
 * the task counts and splits shown are the ones run.
 */
import { ConfigError } from "../job/errors.js";
import { defaultTaskBytes, mapTaskInputs } from "../mapreduce/inputs.js";
import { listInput, type InputListing } from "../splits/listing.js";
import { discoveryOptionsOf } from "../sql/tables.js";
import { hiveDirectory, hiveValuesSql } from "../splits/hive.js";
import { openDuckDb, type DuckDb } from "../duckdb/index.js";
import { sqlIdentifier } from "../duckdb/sql.js";
import { objectUrl } from "../storage/versions.js";
import type { Split } from "../splits/split.js";
import { openStore } from "../storage/url.js";
import type { SqlPlan } from "../sql/model.js";
import type { HivePruning } from "../sql/prune.js";
import type { SqlTable } from "../sql/tables.js";

/** One task of a stage: its number and, for a leaf stage, its group of splits. */
export interface PreparedTask {
  n: number;
  splits: Split[];
}

export interface PreparedStage {
  id: number;
  tasks: PreparedTask[];
  /** A leaf stage: its table's bytes and the bytes per task it was packed at. */
  leaf?: { table: string; bytes: number; taskBytes: number };
}

export interface PreparedQuery {
  plan: SqlPlan;
  /** Each table's one listing, by table name. */
  listings: Map<string, InputListing>;
  stages: PreparedStage[];
  /** The workers the tasks were sized for. */
  workers: number;
  /** What partition pruning (the plan's `pruning`) kept, per table, for explain: `table t: ... keeps 3 of 12 directories, 5 of 20 objects`. */
  pruned?: string[];
}

export interface PrepareOptions {
  /** Workers (every one gets at least two leaf tasks by default). */
  workers: number;
  /** Input bytes per leaf task. @default at least two tasks per worker, 4-64 MiB each; a whole local object per task when there are enough of them */
  taskBytes?: number;
}

/** Lists every table of `tables` once (for callers without a catalog's listing). */
export async function listTables(tables: Pick<SqlTable, "name" | "url" | "format">[]): Promise<Map<string, InputListing>> {
  const out = new Map<string, InputListing>();
  await Promise.all(
    tables.map(async (t) => {
      const { store, key } = await openStore(t.url);
      out.set(t.name, await listInput(store, key, { format: t.format }));
    }),
  );
  return out;
}

/** The tasks of every stage of `plan`, from the tables' listings. */
export async function prepareQuery(plan: SqlPlan, listed: Map<string, InputListing>, o: PrepareOptions): Promise<PreparedQuery> {
  let listings = listed;
  plan.stages.forEach((s, i) => {
    if (s.id !== i + 1) throw new ConfigError(`[smelter] [sql] internal: plan stage ${i + 1} has id ${s.id}; stages must be numbered 1, 2, ... in order`);
  });
  for (const t of plan.tables) if (!listings.has(t.name)) throw new ConfigError(`[smelter] [sql] internal: table ${t.name} was not listed`);
  const notes: string[] = [];
  if (plan.pruning?.length) {
    // One DuckDB for every pruned table's directories.
    const db = await openDuckDb({ threads: 1 });
    try {
      for (const p of plan.pruning) {
        const pruned = await prunedListing(plan, p, listings, db);
        if (!pruned) continue;
        listings = new Map(listings).set(p.table, pruned.listing);
        notes.push(pruned.note);
      }
    } finally {
      db.close();
    }
  }
  const stages: PreparedStage[] = [];
  for (const s of plan.stages) {
    if (s.tasks.kind === "partitions") stages.push({ id: s.id, tasks: Array.from({ length: s.tasks.count }, (_, n) => ({ n, splits: [] })) });
    else if (s.tasks.kind === "single") stages.push({ id: s.id, tasks: [{ n: 0, splits: [] }] });
    else {
      const l = listings.get(s.tasks.table)!;
      const table = plan.tables.find((x) => x.name === (s.tasks as { table: string }).table)!;
      // A CSV dialect that cannot be cut (quoted newlines allowed, an escape other than the quote): objects whole.
      const splits = discoveryOptionsOf(table).whole ? l.splits.map((x) => ({ ...x, whole: true as const })) : l.splits;
      const taskBytes = o.taskBytes ?? defaultTaskBytes(l.bytes, o.workers, { count: l.objects, largest: l.largest, local: l.localFiles });
      const tasks: PreparedTask[] = [];
      for await (const t of mapTaskInputs(splits, taskBytes)) tasks.push({ n: tasks.length, splits: t.splits });
      stages.push({ id: s.id, tasks, leaf: { table: s.tasks.table, bytes: l.bytes, taskBytes } });
    }
  }
  return { plan, listings, stages, workers: o.workers, ...(notes.length ? { pruned: notes } : {}) };
}

/**
 * The listing of a pruned table (sql/prune.ts) with only the objects whose directories'
 * partition values pass its filter, evaluated once per directory in `db` (the pruned tables' one). If the
 * filter fails there (a cast error), nothing is pruned: the tasks then meet it on the rows, as
 * DuckDB alone does.
 */
async function prunedListing(plan: SqlPlan, p: HivePruning, listings: Map<string, InputListing>, db: DuckDb): Promise<{ listing: InputListing; note: string } | undefined> {
  const table = plan.tables.find((t) => t.name === p.table);
  const l = listings.get(p.table);
  if (!table?.hive?.length || !l) return undefined;
  const dirOf = (key: string) => hiveDirectory(objectUrl(l.storeUrl, key));
  const dirs = new Map<string, number>();
  for (const s of l.splits) if (!dirs.has(dirOf(s.key))) dirs.set(dirOf(s.key), dirs.size);
  if (dirs.size === 0) return undefined;
  const hive = table.hive;
  const rows = [...dirs.keys()].map((d, n) => `(${n}, ${hiveValuesSql(hive, d).join(", ")})`);
  let kept: Set<number>;
  try {
    await db.run(`CREATE OR REPLACE TEMP VIEW __hive AS SELECT * FROM (VALUES ${rows.join(", ")}) t(__n, ${hive.map((c) => sqlIdentifier(c.name)).join(", ")})`);
    kept = new Set((await db.all<{ __n: number }>(p.sql)).map((r) => Number(r.__n)));
  } catch {
    return undefined;
  }
  // None kept: the first object still runs (its rows all fail the WHERE), so a global aggregate still sees its empty input (count(*) is 0, not no row).
  const splits = kept.size > 0 ? l.splits.filter((s) => kept.has(dirs.get(dirOf(s.key))!)) : l.splits.filter((s) => s.key === l.splits[0]!.key);
  const objects = new Set(splits.map((s) => s.key));
  const sizes = new Map(splits.map((s) => [s.key, s.fileSize]));
  const bytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  const note = `table ${table.name}: the WHERE's filter on its partition columns keeps ${kept.size} of ${dirs.size} director${dirs.size === 1 ? "y" : "ies"}, ${objects.size} of ${l.objects} object${l.objects === 1 ? "" : "s"}`;
  return { listing: { ...l, splits, objects: objects.size, bytes, largest: Math.max(0, ...sizes.values()) }, note };
}

/** The prepared query as JSON data (`smelter explain --format json`): the plan, and each stage's tasks with their splits. */
export function preparedJson(p: PreparedQuery): unknown {
  return { ...p.plan, workers: p.workers, ...(p.pruned ? { pruned: p.pruned } : {}), tasks: p.stages.map((s) => ({ stage: s.id, count: s.tasks.length, ...(s.leaf ? { ...s.leaf, splits: s.tasks.map((t) => t.splits.map((x) => ({ key: x.key, start: x.range.start, end: x.range.end }))) } : {}) })) };
}
