/**
 * Dataset shapes for `smelter simulate sql`: per table, its size (rows or bytes), its CSV bytes
 * per row, the distinct keys of the query's GROUP BY among its rows, and the share of rows its
 * filters keep. No data exists: the simulator lists equal synthetic objects of this size
 * (sql.ts) and the task model prices the stages (sql-model.ts). Presets: the Big Data
 * Benchmark's tables as `smelter datagen` generates them (bytes per row measured on its output).
 *
 * `--table NAME=SPEC`: SPEC is `uservisits` or `rankings` (a preset; `:5nodes`, `:1node` or a
 * size after it: `uservisits:126.8GB`) and/or `key=value` pairs separated by commas: `rows=775M`,
 * `bytes=126.8GB`, `width=164` (bytes per row), `groups=1000000`, `select=0.006`, `objects=500`.
 */
import { ConfigError } from "../job/errors.js";
import { BDB_COLUMNS } from "../datagen/schema.js";

export interface TableShape {
  name: string;
  columns: { name: string; type: string }[];
  rows: number;
  /** Bytes of a CSV row. */
  bytesPerRow: number;
  /** Distinct keys of the query's GROUP BY in the whole table. @default one per row (datagen's sourceIP: 999,869 distinct in 1M rows, measured) */
  groups?: number;
  /** Distinct groups in `n` of its rows; overrides `groups` (Query 2A's measured power law). */
  groupsIn?: (n: number) => number;
  /** Share of rows the query's filters on this table keep. @default 1 */
  selectivity: number;
  /** Objects the table is stored in (equal sizes). @default one per 256 MiB */
  objects?: number;
}

export interface Preset {
  columns: { name: string; type: string }[];
  bytesPerRow: number;
  /** Rows of the Big Data Benchmark's sets. */
  sets: Record<string, number>;
}

/**
 * The benchmark's 5nodes set: uservisits 775M rows, 126.8 GB (BRIEF: ~163.6 B a row; datagen's
 * rows measure 169.3 B); rankings 90M rows, 6.38 GB (~70.9 B a row; the AWS BigLambda reference's
 * README; datagen's rows measure 62 B). 1node is a fifth of each.
 */
export const PRESETS: Record<string, Preset> = {
  uservisits: { columns: BDB_COLUMNS.uservisits, bytesPerRow: 126.8e9 / 775e6, sets: { "5nodes": 775e6, "1node": 155e6 } },
  rankings: { columns: BDB_COLUMNS.rankings, bytesPerRow: 6.38e9 / 90e6, sets: { "5nodes": 90e6, "1node": 18e6 } },
};

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
const COUNT_UNITS: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, b: 1e9 };

/** `126.8GB`, `500MiB` -> bytes; undefined when not bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = (m?.[2] ?? "").toLowerCase();
  if (!m || !unit.endsWith("b") || BYTE_UNITS[unit] === undefined) return undefined;
  return Number(m[1]) * BYTE_UNITS[unit]!;
}

/** `775M`, `10k`, `2000000`, `1e9` -> a count; undefined when not one. */
export function parseCount(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]?)$/i.exec(text.trim());
  const unit = COUNT_UNITS[(m?.[2] ?? "").toLowerCase()];
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

/** Rows of a preset from `5nodes`, `1node`, a row count or bytes; undefined when none of these. */
export function sizeRows(preset: Preset, text: string): number | undefined {
  const set = preset.sets[text.trim().toLowerCase()];
  if (set !== undefined) return set;
  const bytes = parseBytes(text);
  if (bytes !== undefined) return bytes > 0 ? bytes / preset.bytesPerRow : undefined;
  const rows = parseCount(text);
  return rows !== undefined && rows > 0 ? rows : undefined;
}

/** Rows of a preset from `5nodes`, `1node`, a row count or bytes. */
function presetRows(preset: Preset, text: string, what: string): number {
  const rows = sizeRows(preset, text);
  if (rows !== undefined) return rows;
  throw new ConfigError(`[smelter] ${what}: "${text}" is not a size: give 5nodes, 1node, rows (775M) or bytes (126.8GB)`);
}

/** One `--table NAME=SPEC` (see the header); `columns` from `--schema` when the table is no preset. */
export function parseTableShape(flag: string, columns?: { name: string; type: string }[]): TableShape {
  const eq = flag.indexOf("=");
  const name = flag.slice(0, eq).trim();
  const what = `--table ${flag}`;
  if (eq <= 0 || !name) throw new ConfigError(`[smelter] ${what}: write NAME=SPEC, e.g. uservisits=uservisits:5nodes or t=rows=1e9,width=100`);
  const parts = flag.slice(eq + 1).split(",").map((p) => p.trim()).filter(Boolean);
  let preset: Preset | undefined;
  let rows: number | undefined;
  let presetSize: number | undefined;
  let bytes: number | undefined;
  let width: number | undefined;
  const shape: Partial<TableShape> = {};
  for (const p of parts) {
    const kv = /^(\w+)=(.*)$/.exec(p);
    if (!kv) {
      const [presetName, size] = p.split(":");
      preset = PRESETS[presetName!.toLowerCase()];
      if (!preset) throw new ConfigError(`[smelter] ${what}: unknown preset "${presetName}": use uservisits or rankings, or give rows=... and width=... with --schema`);
      presetSize = presetRows(preset, size ?? "5nodes", what);
      continue;
    }
    const [, key, value] = kv as unknown as [string, string, string];
    const number = (parse: (s: string) => number | undefined, hint: string): number => {
      const n = parse(value);
      if (n === undefined || !(n > 0) || !Number.isFinite(n)) throw new ConfigError(`[smelter] ${what}: ${key}=${value} is not ${hint}`);
      return n;
    };
    switch (key.toLowerCase()) {
      case "rows":
        rows = number(parseCount, "a row count (775M, 1e9)");
        break;
      case "bytes":
        bytes = number(parseBytes, "bytes with a unit (126.8GB, 500MiB)");
        break;
      case "width":
        width = number((s) => (Number.isFinite(Number(s)) ? Number(s) : undefined), "bytes per row (a number)");
        break;
      case "groups":
        shape.groups = number(parseCount, "a count of groups");
        break;
      case "select":
        shape.selectivity = number((s) => (Number(s) <= 1 ? Number(s) : undefined), "a share of rows between 0 and 1");
        break;
      case "objects":
        shape.objects = Math.round(number(parseCount, "a count of objects"));
        break;
      default:
        throw new ConfigError(`[smelter] ${what}: unknown key "${key}": use rows, bytes, width, groups, select or objects`);
    }
  }
  const cols = columns ?? preset?.columns;
  if (!cols) throw new ConfigError(`[smelter] ${what}: table ${name} is no preset (uservisits, rankings): give its columns with --schema ${name}='col TYPE, ...'`);
  const bytesPerRow = width ?? preset?.bytesPerRow ?? (rows !== undefined && bytes !== undefined ? bytes / rows : undefined);
  if (bytesPerRow === undefined) throw new ConfigError(`[smelter] ${what}: give width=BYTES_PER_ROW (or both rows and bytes)`);
  const finalRows = rows ?? (bytes !== undefined ? bytes / bytesPerRow : presetSize);
  if (finalRows === undefined) throw new ConfigError(`[smelter] ${what}: give the table's size: a preset with a size, rows=... or bytes=...`);
  return { name, columns: cols, rows: finalRows, bytesPerRow, selectivity: shape.selectivity ?? 1, ...(shape.groups !== undefined ? { groups: shape.groups } : {}), ...(shape.objects !== undefined ? { objects: shape.objects } : {}) };
}

/** Bytes of a table's CSV. */
export const tableBytes = (t: TableShape): number => Math.round(t.rows * t.bytesPerRow);

/**
 * Distinct groups among `n` of a table's rows: the shape's own rule, else `groups` keys spread
 * evenly over the rows (each key in rows/groups rows), a random subset of n rows covering
 * groups x (1 - (1 - n/rows)^(rows/groups)).
 */
export function groupsIn(t: TableShape, n: number): number {
  if (t.groupsIn) return Math.max(1, Math.min(n, t.groupsIn(n)));
  const g = Math.min(t.groups ?? t.rows, t.rows);
  if (n >= t.rows) return g;
  return Math.max(1, Math.min(n, g * (1 - Math.pow(1 - n / t.rows, t.rows / g))));
}
