/**
 * Classes of wrong answers (or wrong refusals) that exist on main today and are being fixed on
 * other branches (issue 9: wt-csv fixes the readers, wt-pipeline moves Query 2 onto the SQL
 * planner). A case in one of these classes is reported as `skip` with the reason, so `npm test`
 * stays green while the generators keep drawing those inputs. EMPTY THIS LIST once the fixes are
 * merged: `npm run fuzz -- --include-known` runs the listed cases anyway and names those that
 * now pass.
 */
import { readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import type { CaseSpec } from "./cases.js";
import type { GeneratedTable } from "./generate.js";

export interface KnownFailure {
  id: string;
  issue: string;
  reason: string;
  matches: (c: CaseSpec, tables: GeneratedTable[]) => boolean;
}

const csv = (t: GeneratedTable) => t.flags.format === "csv";
const onSqlOrQuery2 = (c: CaseSpec) => c.path === "sql" || c.path === "query2";
/** Some uncompressed CSV object of `t` is cut into several byte ranges (tasks of `c.taskBytes`). */
const cutIntoRanges = (c: CaseSpec, t: GeneratedTable) => c.taskBytes !== undefined && t.files.some((f) => !f.endsWith(".gz") && statSync(f).size > c.taskBytes!);

export const KNOWN_FAILURES: KnownFailure[] = [
  {
    id: "sql-ndjson-read-as-csv",
    issue: "issue 9: NDJSON given to smelter sql is read as CSV",
    reason: "smelter sql reads .ndjson tables as CSV (columns not found, or garbled rows)",
    matches: (c, ts) => c.path === "sql" && ts.some((t) => t.flags.format === "ndjson"),
  },
  {
    id: "sql-gzip",
    issue: "issue 9: gzip/zstd CSV and NDJSON in smelter sql",
    reason: "smelter sql sniffs the header of a .csv.gz from its compressed bytes (an error with a temp path, or a data row taken for a header)",
    matches: (c, ts) => c.path === "sql" && ts.some((t) => csv(t) && t.flags.gzip),
  },
  {
    id: "csv-quoting-off",
    issue: "issue 9: standard CSV quoting (RFC 4180)",
    reason: "smelter sql and query2 read CSV with quoting switched off: quoted fields with commas or doubled quotes fail or are mis-split",
    matches: (c, ts) => onSqlOrQuery2(c) && ts.some((t) => csv(t) && t.quoted),
  },
  {
    id: "sql-header-ranges",
    issue: "issue 9: a CSV with a header row, cut into byte ranges, loses the first row of every range but the first",
    reason: "smelter sql applies header = true to every byte range of a headered CSV object",
    matches: (c, ts) => c.path === "sql" && ts.some((t) => csv(t) && t.flags.header && cutIntoRanges(c, t)),
  },
  {
    id: "sql-column-order",
    issue: "issue 9: files with the same columns in a different order",
    reason: "smelter sql matches CSV columns by position, not by the header's names",
    matches: (c, ts) => c.path === "sql" && ts.some((t) => csv(t) && t.flags.header && t.flags.shuffledColumns),
  },
  {
    id: "fn-quoted-newlines",
    issue: "issue 9: quoted newlines inside fields: exact, or a clear error that names the file and the way out",
    reason: "the functions API parses CSV line by line: a quoted newline fails as a malformed record (\"Quote Not Closed\"), not as an error that names quoted newlines",
    matches: (c, ts) => c.path === "functions" && ts.some((t) => t.quotedNewline),
  },
  {
    id: "fn-empty-gzip-header",
    issue: "issue 9: the functions API shares the split reader and the CSV dialect",
    reason: "the functions API with records { csv: { header: true } } refuses a gzipped empty CSV object (\"has no header line\"); DuckDB alone reads it as no rows, as the functions API does for an empty uncompressed object",
    matches: (c, ts) => c.path === "functions" && ts.some((t) => csv(t) && t.flags.header && t.files.some((f) => f.endsWith(".gz") && gunzipSync(readFileSync(f)).byteLength === 0)),
  },
];

/** The first known failure class case `c` (with its generated tables) belongs to. */
export function knownFailure(c: CaseSpec, tables: GeneratedTable[]): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.matches(c, tables));
}
