/**
 * Hive-style partition directories (`.../year=2024/month=01/part-0.parquet`): DuckDB alone reads
 * each `key=value` directory of an object's path as a column of the table (its hive partitioning,
 * on by default when every object names the same keys). The catalog asks DuckDB itself which
 * columns and types (src/sql/catalog.ts `hiveColumns`, over one placeholder file per directory:
 * DuckDB's own rules, which are not simple: `2024` is BIGINT, `01` and `+5` stay text, a column
 * is DATE only if every directory's value is a date), and checks that {@link hiveValueSql} gives
 * every listed directory's values as DuckDB does. Tasks then add each file's values as constants
 * (mapreduce/table-source.ts), from its object's path.
 */

/** A name as DuckDB compares names ignoring case: ASCII letters only (`KÉ` and `ké` are two columns). */
export function asciiLower(name: string): string {
  return name.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** A partition column: its name as DuckDB names it (the first object's spelling) and its DuckDB type. */
export interface HiveColumn {
  name: string;
  type: string;
}

/** The directory of an object (URL or local path), without the URL's scheme, ending in `/` (`""` at the root): where its partition values are read. */
export function hiveDirectory(objectUrl: string): string {
  const path = objectUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/+/i, "");
  return path.slice(0, path.lastIndexOf("/") + 1);
}

/**
 * The `key=value` directories of an object's path (URL or local path; the file name is not one;
 * or a {@link hiveDirectory}), by key ignoring ASCII case, the value as written (URL-encoded). A
 * key named twice keeps its first value, as DuckDB does (`s=1/x/s=2/` reads 1).
 */
export function hivePairs(objectUrl: string): Map<string, string> {
  const dirs = hiveDirectory(objectUrl).split("/").slice(0, -1);
  const pairs = new Map<string, string>();
  for (const d of dirs) {
    const eq = d.indexOf("=");
    const key = asciiLower(d.slice(0, eq));
    if (eq > 0 && !pairs.has(key)) pairs.set(key, d.slice(eq + 1));
  }
  return pairs;
}

/**
 * A partition value as DuckDB reads it: NULL for `null` (any case) and Hive's
 * `__HIVE_DEFAULT_PARTITION__`, else the URL-decoded text (`%20` a space, `%C3%A9` é; a `%` not
 * followed by two hex digits stays) cast to the column's type. SQL text.
 */
export function hiveValueSql(raw: string | undefined, type: string): string {
  if (raw === undefined || raw.toLowerCase() === "null" || raw === "__HIVE_DEFAULT_PARTITION__") return `CAST(NULL AS ${type})`;
  const text = `'${urlDecode(raw).replace(/'/g, "''")}'`;
  return /^VARCHAR$/i.test(type) ? text : `CAST(${text} AS ${type})`;
}

function urlDecode(s: string): string {
  return s.replace(/(?:%[0-9a-f]{2})+/gi, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"));
}

/** A file's partition values, as SQL text, one per column: from its object's path (or directory). */
export function hiveValuesSql(columns: HiveColumn[], objectUrl: string): string[] {
  const pairs = hivePairs(objectUrl);
  return columns.map((c) => hiveValueSql(pairs.get(asciiLower(c.name)), c.type));
}
