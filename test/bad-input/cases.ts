/**
 * The bad-input corpus run through the CLI: one row per case, grouped by category (counted in
 * docs/reliability.md). Each case says the exit code and what stderr must say; harness.ts adds
 * the rules every case keeps (`[smelter]` first, no stack trace, no DuckDB-only options, no hang).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BadInputCase, CorpusContext } from "./harness.js";

/** A job on one worker thread with no progress, so stderr is the error alone. */
const JOB = ["--backend", "threads", "--workers", "1", "-q"];
const sql = (query: string, ...rest: string[]) => (c: CorpusContext) => ["sql", query, ...rest.map((a) => a.replaceAll("{dir}", c.dir)), ...JOB];
const tableT = (sub: string) => `t={dir}/${sub}/`;
/** S3 through the embedded server, with timeouts short enough for a dead endpoint to fail in about a second. */
const s3 = (c: CorpusContext, extra: Record<string, string> = {}) => ({ ...c.s3Env, SMELTER_S3_FIRST_BYTE_TIMEOUT_MS: "500", SMELTER_S3_CONNECT_TIMEOUT_MS: "500", SMELTER_S3_MAX_ATTEMPTS: "2", ...extra });
const nothingAt = (rel: string) => (c: CorpusContext) => assert.equal(existsSync(join(c.dir, rel)), false, `nothing written at ${rel}`);

const csv: BadInputCase[] = [
  { category: "csv", name: "ragged rows with the delimiter given", args: sql("SELECT * FROM t", "--table", tableT("ragged"), "--delimiter", ","), stderr: [/ragged\/x\.csv/, /cannot be read as CSV/, /--delimiter|--schema/] },
  { category: "csv", name: "an unterminated quote with the quote given", args: sql("SELECT * FROM t", "--table", tableT("quote"), "--quote", '"', "--delimiter", ","), stderr: [/quote\/x\.csv/, /cannot be read as CSV/, /--quote|--schema/] },
  { category: "csv", name: "a value of the wrong type for --schema", args: sql("SELECT sum(a) FROM t", "--table", tableT("types"), "--schema", "t=a INTEGER, b INTEGER"), stderr: [/file:\/\/\S+\/types\/x\.csv/, /Line: 3/, /"abc"/, /INTEGER/, /--bad-rows skip/, /--schema/] },
  { category: "csv", name: "a type the sniffer picked, wrong further down (--schema t=a INTEGER, b DATE)", args: sql("SELECT max(b) FROM t", "--table", tableT("types"), "--schema", "t=a VARCHAR, b DATE"), stderr: [/x\.csv/, /DATE/, /--schema/] },
  { category: "csv", name: "an impossible date", args: sql("SELECT * FROM t", "--table", tableT("dates"), "--schema", "t=a INTEGER, d DATE"), stderr: [/x\.csv/, /2021-02-30/, /--date-format|--schema/] },
  { category: "csv", name: "invalid UTF-8", args: sql("SELECT count(*) FROM t", "--table", tableT("utf8")), stderr: [/x\.csv/, /UTF-8|unicode/i] },
  { category: "csv", name: "invalid UTF-8 with --schema", args: sql("SELECT count(*) FROM t", "--table", tableT("utf8"), "--schema", "t=a INTEGER, b VARCHAR"), stderr: [/x\.csv/, /UTF-8|unicode/i] },
  {
    category: "csv",
    name: "invalid UTF-8 with --bad-rows skip (every CSV option given): DuckDB's internal error, told without its C++ stack",
    args: sql("SELECT count(b) AS n FROM t", "--table", tableT("utf8"), "--schema", "t=a INTEGER, b VARCHAR", "--delimiter", ",", "--header", "yes", "--quote", "", "--bad-rows", "skip", "--format", "csv"),
    stderr: [/utf8\/x\.csv/, /INTERNAL Error/, /a bug in DuckDB/],
    notStderr: [/Stack Trace|libduckdb/],
  },
  { category: "csv", name: "a record over the 16 MiB limit (a sparse 17 MiB file)", args: sql("SELECT count(*) FROM t", "--table", tableT("hugerecord"), "--schema", "t=a VARCHAR"), stderr: [/x\.csv/, /16 MiB|record/i] },
  { category: "csv", name: "--schema with fewer columns than the file", args: sql("SELECT count(*) FROM t", "--table", tableT("good"), "--schema", "t=a INTEGER", "--header", "yes", "--delimiter", ","), stderr: [/x\.csv|table t/, /column/i] },
  { category: "csv", name: "--header no with a header line under --schema INTEGER", args: sql("SELECT sum(a) FROM t", "--table", tableT("good"), "--schema", "t=a INTEGER, b INTEGER", "--header", "no"), stderr: [/good\/x\.csv/, /"a"/, /--header/] },
  { category: "csv", name: "a wrong --delimiter under --schema", args: sql("SELECT sum(a) FROM t", "--table", tableT("good"), "--schema", "t=a INTEGER, b INTEGER", "--delimiter", ";", "--header", "yes"), stderr: [/--schema gives 2 columns/, /good\/x\.csv/, /list every column/] },
  { category: "csv", name: "a wrong --date-format", args: sql("SELECT * FROM t", "--table", tableT("dates"), "--schema", "t=a INTEGER, d DATE", "--date-format", "%d/%m/%Y"), stderr: [/x\.csv/, /date/i] },
  {
    category: "csv",
    name: "--bad-rows skip: the bad rows are skipped and counted",
    args: (c) => ["sql", "SELECT sum(a) AS s, count(*) AS n FROM t", "--table", `t=${c.dir}/types/`, "--schema", "t=a INTEGER, b INTEGER", "--bad-rows", "skip", "--format", "csv", "--backend", "threads", "--workers", "2"],
    exit: 0,
    stderr: [/skipped 2 bad rows/, /table t/],
    stdout: /^s,n\n6,2\n$/,
  },
  {
    category: "csv",
    name: "--table-option t.badrows=skip counts too (with -q)",
    args: sql("SELECT sum(a) AS s FROM t", "--table", tableT("types"), "--schema", "t=a INTEGER, b INTEGER", "--table-option", "t.badrows=skip", "--format", "csv", "--delimiter", ",", "--header", "yes"),
    exit: 0,
    stderr: [/skipped 2 bad rows/],
    stdout: /^s\n6\n$/,
  },
  { category: "csv", name: "a bad value in query2's input (rankings given as uservisits)", args: (c) => ["query2", "--input", join(c.dir, "types/"), ...JOB], stderr: [/types\/x\.csv/, /Expected Number of Columns: 9/] },
];

const parquet: BadInputCase[] = [
  { category: "parquet", name: "not Parquet at all", args: sql("SELECT count(*) FROM t", "--table", tableT("pqnot")), stderr: [/x\.parquet/, /not a Parquet file/, /format|file/] },
  { category: "parquet", name: "truncated to half", args: sql("SELECT count(*) FROM t", "--table", tableT("pqtrunc")), stderr: [/x\.parquet/, /Parquet/] },
  { category: "parquet", name: "wrong magic at the end", args: sql("SELECT count(*) FROM t", "--table", tableT("pqmagic")), stderr: [/x\.parquet/, /PAR1/] },
  { category: "parquet", name: "an empty .parquet object", args: sql("SELECT count(*) FROM t", "--table", tableT("pqempty")), stderr: [/x\.parquet|table t/, /empty|0 bytes|Parquet/] },
  { category: "parquet", name: "the footer intact, the data pages zeroed", args: sql("SELECT sum(a), count(s) FROM t", "--table", tableT("pqmid")), stderr: [/x\.parquet/, /Parquet|corrupt|invalid/i] },
  { category: "parquet", name: "--input-format parquet over CSV", args: sql("SELECT count(*) FROM t", "--table", tableT("good"), "--input-format", "parquet"), stderr: [/x\.csv/, /not a Parquet file/] },
  { category: "parquet", name: "a column the Parquet file does not have", args: sql("SELECT sum(nope) FROM t", "--table", tableT("pq")), stderr: [/nope/, /column/i] },
  { category: "parquet", name: "--schema against Parquet's own types", args: sql("SELECT * FROM t", "--table", tableT("pq"), "--schema", "t=a DATE, b BIGINT, s VARCHAR"), stderr: [/--schema|x\.parquet/] },
  { category: "parquet", name: "truncated Parquet on S3", args: (c) => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/pqtrunc/", ...JOB], env: (c) => s3(c), stderr: [/s3:\/\/bad\/pqtrunc\/x\.parquet/, /Parquet/] },
];

const empty: BadInputCase[] = [
  { category: "empty/huge", name: "an empty directory", args: sql("SELECT count(*) FROM t", "--table", tableT("emptydir")), stderr: [/no objects for table t/, /emptydir/, /check the URL/] },
  { category: "empty/huge", name: "one empty object", args: sql("SELECT count(*) FROM t", "--table", tableT("emptyobj")), stderr: [/table t/, /emptyobj/, /empty|0 bytes/] },
  { category: "empty/huge", name: "a header and no rows: 0 rows, exit 0", args: sql("SELECT count(*) AS n FROM t", "--table", tableT("headeronly"), "--format", "csv"), exit: 0, stderr: [/^$/], stdout: /^n\n0\n$/ },
  { category: "empty/huge", name: "query2 over an empty directory", args: (c) => ["query2", "--input", join(c.dir, "emptydir/"), ...JOB], stderr: [/no uservisits data at \S+emptydir/, /check the URL/] },
  { category: "empty/huge", name: "datagen of 1e15 rows is refused by size", args: (c) => ["datagen", "uservisits", "--rows", "1e15", "--out", join(c.dir, "dg-huge")], stderr: [/rows/, /free|--rows/] , after: nothingAt("dg-huge/part-00000") },
];

const missing: BadInputCase[] = [
  { category: "missing", name: "a local directory that does not exist", args: sql("SELECT count(*) FROM t", "--table", tableT("nope")), stderr: [/no objects for table t/, /nope/] },
  { category: "missing", name: "a glob that matches nothing", args: sql("SELECT count(*) FROM t", "--table", "t={dir}/good/*.parquet"), stderr: [/no objects for table t/, /\*\.parquet/] },
  { category: "missing", name: "query2 --input missing", args: (c) => ["query2", "--input", join(c.dir, "nope/"), ...JOB], stderr: [/nope/] },
  { category: "missing", name: "a bucket that does not exist", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://nobucket/t/", ...JOB], env: (c) => s3(c), stderr: [/nobucket/, /create the bucket|check the name/] },
  { category: "missing", name: "a prefix with no objects in the bucket", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/none/", ...JOB], env: (c) => s3(c), stderr: [/no objects for table t at s3:\/\/bad\/none\//] },
  { category: "missing", name: "--work in a bucket that does not exist", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", "--work", "s3://nobucket/work/", ...JOB], env: (c) => s3(c), stderr: [/nobucket/] },
  { category: "missing", name: "--output in a bucket that does not exist", args: () => ["sql", "SELECT * FROM t", "--table", "t=s3://bad/t/", "--output", "s3://nobucket/r.csv", ...JOB], env: (c) => s3(c), stderr: [/nobucket/] },
  { category: "missing", name: "report of an events file that does not exist", args: (c) => ["report", join(c.dir, "nope.jsonl")], stderr: [/nope\.jsonl/, /--events/] },
  { category: "missing", name: "logs of an events file that does not exist", args: (c) => ["logs", join(c.dir, "nope.jsonl")], stderr: [/nope\.jsonl/] },
  { category: "missing", name: "report --prices file that does not exist", args: (c) => ["report", join(c.dir, "events.jsonl"), "--prices", join(c.dir, "nope.json")], stderr: [/nope\.json/] },
  { category: "missing", name: "datagen --out under a file", args: (c) => ["datagen", "rankings", "--rows", "10", "--out", join(c.dir, "afile", "out")], stderr: [/afile/, /not a directory|is a file/] },
];

const endpoints: BadInputCase[] = [
  { category: "credentials/endpoints", name: "a wrong secret key", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c, { AWS_SECRET_ACCESS_KEY: "wrong-secret" }), stderr: [/SignatureDoesNotMatch/, /AWS_SECRET_ACCESS_KEY/], notStderr: [/wrong-secret/] },
  { category: "credentials/endpoints", name: "an unknown access key id", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c, { AWS_ACCESS_KEY_ID: "NOSUCHKEY" }), stderr: [/InvalidAccessKeyId/, /AWS_ACCESS_KEY_ID/] },
  { category: "credentials/endpoints", name: "no credentials at all", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c, { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent", AWS_CONFIG_FILE: "/nonexistent", AWS_EC2_METADATA_DISABLED: "true" }), stderr: [/credentials/i, /AWS_ACCESS_KEY_ID/] },
  { category: "credentials/endpoints", name: "query2 with a wrong secret", args: () => ["query2", "--input", "s3://bad/uv/", ...JOB], env: (c) => s3(c, { AWS_SECRET_ACCESS_KEY: "wrong-secret" }), stderr: [/SignatureDoesNotMatch/, /AWS_SECRET_ACCESS_KEY/] },
  { category: "credentials/endpoints", name: "a silent endpoint (sql)", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c, { AWS_ENDPOINT_URL_S3: c.silent }), stderr: [/sent no response/, /SMELTER_S3_FIRST_BYTE_TIMEOUT_MS/] },
  { category: "credentials/endpoints", name: "a silent endpoint (query2)", args: () => ["query2", "--input", "s3://bad/uv/", ...JOB], env: (c) => s3(c, { AWS_ENDPOINT_URL_S3: c.silent }), stderr: [/sent no response/, /endpoint/] },
  { category: "credentials/endpoints", name: "a silent endpoint given with --endpoint", args: (c) => ["--endpoint", c.silent, "sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c), stderr: [/sent no response/] },
  { category: "credentials/endpoints", name: "an unreachable endpoint (connection refused)", args: () => ["sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c, { AWS_ENDPOINT_URL_S3: c.closed }), stderr: [/127\.0\.0\.1/, /refused|cannot connect|unreachable|not reach/i, /AWS_ENDPOINT_URL_S3|smelter s3 serve/] },
  { category: "credentials/endpoints", name: "an unreachable endpoint for --output", args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--output", "s3://bad/r.csv", ...JOB], env: (c) => s3(c, { AWS_ENDPOINT_URL_S3: c.closed }), stderr: [/refused|cannot connect|unreachable|not reach/i] },
  { category: "credentials/endpoints", name: "an unresolvable host", args: () => ["--endpoint", "http://no-such-host.invalid:9", "sql", "SELECT count(*) FROM t", "--table", "t=s3://bad/t/", ...JOB], env: (c) => s3(c), stderr: [/no-such-host\.invalid/, /endpoint/i] },
  { category: "credentials/endpoints", name: "--endpoint that is not a URL", args: () => ["--endpoint", "localhost:4568", "sql", "SELECT 1 FROM t", "--table", "t=s3://bad/t/"], stderr: [/--endpoint must be a URL/] },
  { category: "credentials/endpoints", name: "--output object that exists, without --overwrite", args: () => ["sql", "SELECT * FROM t", "--table", "t=s3://bad/t/", "--output", "s3://bad/exists.csv", ...JOB], env: (c) => s3(c), stderr: [/exists\.csv/, /--overwrite/] },
];

const outputs: BadInputCase[] = [
  { category: "outputs", name: "--output local file that exists", args: sql("SELECT * FROM t", "--table", tableT("good"), "--output", "{dir}/exists.csv"), stderr: [/exists\.csv/, /--overwrite/] },
  { category: "outputs", name: "--output under /proc", args: sql("SELECT * FROM t", "--table", tableT("good"), "--output", "/proc/nope/r.csv"), stderr: [/\/proc\/nope/, /does not exist: create it first, or write somewhere else/] },
  { category: "outputs", name: "--output under a file", args: sql("SELECT * FROM t", "--table", tableT("good"), "--output", "{dir}/afile/r.csv"), stderr: [/afile is not a directory/, /pick a path whose parents are directories/] },
  { category: "outputs", name: "--output with an extension it cannot write", args: sql("SELECT * FROM t", "--table", tableT("good"), "--output", "{dir}/r.json"), stderr: [/--output/, /\.csv|\.parquet/], after: nothingAt("r.json") },
  { category: "outputs", name: "--events to an unwritable path", args: sql("SELECT * FROM t", "--table", tableT("good"), "--events", "/proc/nope/e.jsonl"), stderr: [/--events/, /\/proc\/nope/] },
  { category: "outputs", name: "--events to a directory", args: sql("SELECT * FROM t", "--table", tableT("good"), "--events", "{dir}/good"), stderr: [/--events/, /directory/] },
  { category: "outputs", name: "--report to an unwritable path", args: sql("SELECT * FROM t", "--table", tableT("good"), "--report", "/proc/nope/r.html"), stderr: [/--report \/proc\/nope\/r\.html/, /does not exist/] },
  { category: "outputs", name: "--output FILE.duckdb under a file", args: sql("SELECT * FROM t", "--table", tableT("good"), "--output", "{dir}/afile/r.duckdb"), stderr: [/afile/] },
  { category: "outputs", name: "--work under a file", args: sql("SELECT a, count(*) FROM t GROUP BY a", "--table", tableT("good"), "--work", "{dir}/afile/work", "--partitions", "2"), stderr: [/afile/, /a file, not a directory|is a file|pick/] },
];

/** A full disk (a filled 1 MiB tmpfs; see fixtures.ts). */
const onFull = (c: CorpusContext, rel: string) => join(c.full ?? "/nonexistent", rel);
const fullDisk: BadInputCase[] = [
  { category: "full disk", name: "--output object on a full disk", needsFullDisk: true, args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/pq/`, "--output", onFull(c, "r.csv"), ...JOB], stderr: [/disk is full/, /free some space or write to another disk/] },
  { category: "full disk", name: "--output FILE.duckdb on a full disk", needsFullDisk: true, args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/pq/`, "--output", onFull(c, "r.duckdb"), ...JOB], stderr: [/r\.duckdb/, /disk is full|No space left/i] },
  { category: "full disk", name: "--work (shuffle segments) on a full disk", needsFullDisk: true, args: (c) => ["sql", "SELECT s, count(*) FROM t GROUP BY s", "--table", `t=${c.dir}/pq/`, "--work", onFull(c, "work"), "--partitions", "2", ...JOB], stderr: [/disk is full/] },
  { category: "full disk", name: "--events on a full disk", needsFullDisk: true, args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/pq/`, "--events", onFull(c, "e.jsonl"), ...JOB], stderr: [/--events/, /disk is full/] },
  { category: "full disk", name: "datagen to a full disk is refused by size", needsFullDisk: true, args: (c) => ["datagen", "uservisits", "--rows", "100000", "--out", onFull(c, "dg")], stderr: [/free/, /--rows|--out/] },
];

const sqlCases: BadInputCase[] = [
  { category: "sql", name: "a syntax error", args: sql("SELEC count(*) FROM t", "--table", tableT("good")), stderr: [/syntax error/i, /SELEC/] },
  { category: "sql", name: "an unterminated string", args: sql("SELECT 'abc FROM t", "--table", tableT("good")), stderr: [/unterminated|syntax/i] },
  { category: "sql", name: "an unknown table", args: sql("SELECT count(*) FROM nope", "--table", tableT("good")), stderr: [/nope/, /--table/] },
  { category: "sql", name: "an unknown column", args: sql("SELECT sum(zz) FROM t", "--table", tableT("good")), stderr: [/zz/, /column/i] },
  { category: "sql", name: "INSERT", args: sql("INSERT INTO t VALUES (1, 2)", "--table", tableT("good")), stderr: [/SELECT/, /INSERT|statement/i] },
  { category: "sql", name: "CREATE TABLE", args: sql("CREATE TABLE x AS SELECT * FROM t", "--table", tableT("good")), stderr: [/SELECT/] },
  { category: "sql", name: "two statements", args: sql("SELECT 1 FROM t; SELECT 2 FROM t", "--table", tableT("good")), stderr: [/one/i] },
  { category: "sql", name: "COPY TO a file", args: sql("COPY t TO '{dir}/stolen.csv'", "--table", tableT("good")), stderr: [/SELECT/], after: nothingAt("stolen.csv") },
  { category: "sql", name: "ATTACH", args: sql("ATTACH '{dir}/x.duckdb'", "--table", tableT("good")), stderr: [/SELECT/], after: nothingAt("x.duckdb") },
  { category: "sql", name: "a table function", args: sql("SELECT * FROM read_csv('/etc/passwd')", "--table", tableT("good")), stderr: [/read_csv/, /--table/] },
  { category: "sql", name: "a file path in FROM", args: sql("SELECT * FROM '/etc/passwd'", "--table", tableT("good")), stderr: [/passwd|file/, /--table/] },
  { category: "sql", name: "a window function", args: sql("SELECT a, row_number() OVER (ORDER BY b) FROM t", "--table", tableT("good")), stderr: [/window function/, /--allow-single-task/] },
  { category: "sql", name: "a subquery in an expression", args: sql("SELECT * FROM t WHERE a IN (SELECT b FROM t)", "--table", tableT("good")), stderr: [/subquery/, /--allow-single-task/] },
  { category: "sql", name: "a self-join", args: sql("SELECT * FROM t x JOIN t y ON x.a = y.a", "--table", tableT("good")), stderr: [/self-join/] },
  { category: "sql", name: "a query without FROM", args: sql("SELECT 1", "--table", tableT("good")), stderr: [/without FROM/] },
  { category: "sql", name: "GROUPING SETS", args: sql("SELECT a, b, count(*) FROM t GROUP BY GROUPING SETS ((a), (b))", "--table", tableT("good")), stderr: [/GROUPING SETS/] },
  { category: "sql", name: "a UNION in FROM", args: sql("SELECT * FROM (SELECT a FROM t UNION SELECT b FROM t) u", "--table", tableT("good")), stderr: [/set operation/] },
  { category: "sql", name: "a schema-qualified table", args: sql("SELECT * FROM main.t", "--table", tableT("good")), stderr: [/schema-qualified/] },
  { category: "sql", name: "a type error in the query", args: sql("SELECT a + 'x' FROM t", "--table", tableT("good"), "--schema", "t=a INTEGER, b INTEGER"), stderr: [/a \+ 'x'|Conversion|convert|type/i] },
  { category: "sql", name: "explain of a syntax error", args: (c) => ["explain", "SELEC 1", "--table", `t=${c.dir}/good/`], stderr: [/syntax error/i] },
  { category: "sql", name: "an empty query", args: sql("", "--table", tableT("good")), stderr: [/query/i] },
];

const flags: BadInputCase[] = [
  { category: "flags", name: "an unknown command", args: () => ["frobnicate"], stderr: [/unknown command/, /--help/] },
  { category: "flags", name: "an unknown option", args: () => ["sql", "SELECT 1", "--nope"], stderr: [/unknown option/, /--nope/, /--help/] },
  { category: "flags", name: "sql without a query", args: () => ["sql"], stderr: [/missing required argument/, /query/] },
  { category: "flags", name: "sql --table without =", args: sql("SELECT * FROM t", "--table", "{dir}/good/"), stderr: [/--table takes NAME=VALUE/] },
  { category: "flags", name: "sql --schema for an unknown table", args: sql("SELECT * FROM t", "--table", tableT("good"), "--schema", "u=a INTEGER"), stderr: [/--schema/, /\bu\b/] },
  { category: "flags", name: "sql --schema with a bad type", args: sql("SELECT * FROM t", "--table", tableT("good"), "--schema", "t=a INTEGER DEFAULT 5, b INTEGER"), stderr: [/INTEGER DEFAULT 5/, /is not a type name/] },
  { category: "flags", name: "sql --join sideways", args: sql("SELECT * FROM t", "--table", tableT("good"), "--join", "sideways"), stderr: [/--join/] },
  { category: "flags", name: "sql --bad-rows maybe", args: sql("SELECT * FROM t", "--table", tableT("good"), "--bad-rows", "maybe"), stderr: [/--bad-rows must be fail or skip/] },
  { category: "flags", name: "sql --table-option with an unknown key", args: sql("SELECT * FROM t", "--table", tableT("good"), "--table-option", "t.colour=red"), stderr: [/--table-option/, /colour/] },
  { category: "flags", name: "sql --table-option for an unknown table", args: sql("SELECT * FROM t", "--table", tableT("good"), "--table-option", "u.header=yes"), stderr: [/--table-option/, /\bu\b/] },
  { category: "flags", name: "sql --delimiter of two characters", args: sql("SELECT * FROM t", "--table", tableT("good"), "--delimiter", ";;"), stderr: [/--delimiter/] },
  { category: "flags", name: "sql --header maybe", args: sql("SELECT * FROM t", "--table", tableT("good"), "--header", "maybe"), stderr: [/--header/] },
  { category: "flags", name: "sql --input-format xml", args: sql("SELECT * FROM t", "--table", tableT("good"), "--input-format", "xml"), stderr: [/--input-format/] },
  { category: "flags", name: "sql --partitions 0", args: sql("SELECT * FROM t", "--table", tableT("good"), "--partitions", "0"), stderr: [/--partitions/] },
  { category: "flags", name: "sql --broadcast-bytes -1", args: sql("SELECT * FROM t", "--table", tableT("good"), "--broadcast-bytes", "-1"), stderr: [/--broadcast-bytes/] },
  { category: "flags", name: "sql --format xml", args: sql("SELECT * FROM t", "--table", tableT("good"), "--format", "xml"), stderr: [/--format must be table, json or csv/] },
  { category: "flags", name: "sql --limit -1", args: sql("SELECT * FROM t", "--table", tableT("good"), "--limit", "-1"), stderr: [/--limit/] },
  { category: "flags", name: "sql --threads-per-task 0", args: sql("SELECT * FROM t", "--table", tableT("good"), "--threads-per-task", "0"), stderr: [/--threads-per-task/] },
  { category: "flags", name: "sql --task-bytes 5", args: sql("SELECT * FROM t", "--table", tableT("good"), "--task-bytes", "5"), stderr: [/--task-bytes must be at least 1024/] },
  { category: "flags", name: "sql --backend nowhere", args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--backend", "nowhere"], stderr: [/--backend/, /nowhere/] },
  { category: "flags", name: "sql --workers 0", args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--workers", "0"], stderr: [/--workers must be at least 1/] },
  { category: "flags", name: "sql --workers many", args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--workers", "many"], stderr: [/--workers must be a number/] },
  { category: "flags", name: "sql --report r.txt", args: sql("SELECT * FROM t", "--table", tableT("good"), "--report", "{dir}/r.txt"), stderr: [/--report must end in \.html/] },
  { category: "flags", name: "sql --backend lambda without a function", args: (c) => ["sql", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--backend", "lambda"], stderr: [/--lambda-function/] },
  { category: "flags", name: "query2 without --input", args: () => ["query2", ...JOB], stderr: [/--input is required/] },
  { category: "flags", name: "query2 --prefix-len 99", args: (c) => ["query2", "--input", join(c.dir, "uv/"), "--prefix-len", "99", ...JOB], stderr: [/--prefix-len must be 1 to 15/] },
  { category: "flags", name: "query2 --partitions abc", args: (c) => ["query2", "--input", join(c.dir, "uv/"), "--partitions", "abc", ...JOB], stderr: [/--partitions/] },
  { category: "flags", name: "query2 --output r.parquet (csv only)", args: (c) => ["query2", "--input", join(c.dir, "uv/"), "--output", join(c.dir, "q2.parquet"), ...JOB], stderr: [/--output/, /\.csv/] },
  { category: "flags", name: "explain --format yaml", args: (c) => ["explain", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--format", "yaml"], stderr: [/--format/] },
  { category: "flags", name: "explain --workers 0", args: (c) => ["explain", "SELECT * FROM t", "--table", `t=${c.dir}/good/`, "--workers", "0"], stderr: [/--workers/] },
  { category: "flags", name: "datagen without a table", args: (c) => ["datagen", "--out", join(c.dir, "dg")], stderr: [/missing required argument .table./] },
  { category: "flags", name: "datagen of an unknown table", args: (c) => ["datagen", "customers", "--out", join(c.dir, "dg")], stderr: [/the table must be one of: uservisits, rankings/] },
  { category: "flags", name: "datagen --rows -5", args: (c) => ["datagen", "rankings", "--rows", "-5", "--out", join(c.dir, "dg")], stderr: [/--rows/] },
  { category: "flags", name: "datagen --rows lots", args: (c) => ["datagen", "rankings", "--rows", "lots", "--out", join(c.dir, "dg")], stderr: [/--rows/] },
  { category: "flags", name: "datagen --files 0", args: (c) => ["datagen", "rankings", "--files", "0", "--out", join(c.dir, "dg")], stderr: [/--files/] },
  { category: "flags", name: "datagen --format xml", args: (c) => ["datagen", "rankings", "--format", "xml", "--out", join(c.dir, "dg")], stderr: [/--format/] },
  { category: "flags", name: "datagen without --out", args: () => ["datagen", "rankings"], stderr: [/--out/] },
  { category: "flags", name: "datagen --row-group-rows 0", args: (c) => ["datagen", "rankings", "--format", "parquet", "--row-group-rows", "0", "--out", join(c.dir, "dg")], stderr: [/--row-group-rows/] },
  { category: "flags", name: "report --output r.txt", args: (c) => ["report", join(c.dir, "events.jsonl"), "--output", join(c.dir, "r.txt")], stderr: [/--output/, /\.html/] },
  { category: "flags", name: "report --backend mainframe", args: (c) => ["report", join(c.dir, "events.jsonl"), "--backend", "mainframe"], stderr: [/--backend/] },
  { category: "flags", name: "report --prices that is not JSON", args: (c) => ["report", join(c.dir, "events.jsonl"), "--prices", join(c.dir, "prices-bad.json")], stderr: [/prices-bad\.json/, /JSON/] },
  { category: "flags", name: "report --prices with a wrong value", args: (c) => ["report", join(c.dir, "events.jsonl"), "--prices", join(c.dir, "prices-wrong.json")], stderr: [/prices-wrong\.json/] },
  { category: "flags", name: "report of a file that is not events", args: (c) => ["report", join(c.dir, "garbage.jsonl")], stderr: [/garbage\.jsonl/, /--events/] },
  { category: "flags", name: "report of an empty events file", args: (c) => ["report", join(c.dir, "empty.jsonl")], stderr: [/empty\.jsonl/] },
  { category: "flags", name: "logs of a file that is not events", args: (c) => ["logs", join(c.dir, "garbage.jsonl")], stderr: [/garbage\.jsonl/] },
  { category: "flags", name: "logs --task with no events file", args: () => ["logs", "--task", "t00001"], stderr: [/missing required argument/] },
  { category: "flags", name: "simulate query2 --workers 0", args: () => ["simulate", "query2", "--dataset", "10k", "--workers", "0"], stderr: [/--workers/] },
  { category: "flags", name: "simulate query2 --backend mars", args: () => ["simulate", "query2", "--dataset", "10k", "--backend", "mars"], stderr: [/--backend must be lambda, fargate/] },
  { category: "flags", name: "simulate query2 --dataset lots", args: () => ["simulate", "query2", "--dataset", "lots"], stderr: [/--dataset/] },
  { category: "flags", name: "s3 serve --port 70000", args: (c) => ["s3", "serve", "--port", "70000", "--dir", join(c.dir, "s3d")], stderr: [/--port must be 0-65535/] },
  { category: "flags", name: "s3 serve --bucket Bad_Name", args: (c) => ["s3", "serve", "--port", "0", "--bucket", "Bad_Name", "--dir", join(c.dir, "s3d")], stderr: [/Bad_Name|bucket/] },
  { category: "flags", name: "s3 without a subcommand", args: () => ["s3", "nothing"], stderr: [/unknown command|nothing/] },
  { category: "flags", name: "pi --tasks 0", args: () => ["pi", "--tasks", "0"], stderr: [/--tasks/] },
  { category: "flags", name: "pi --samples x", args: () => ["pi", "--samples", "x"], stderr: [/--samples/] },
  { category: "flags", name: "pi --stragglers 200", args: () => ["pi", "--stragglers", "200"], stderr: [/--stragglers/] },
];

export const CLI_CASES: BadInputCase[] = [...csv, ...parquet, ...empty, ...missing, ...endpoints, ...outputs, ...fullDisk, ...sqlCases, ...flags];

/** Reads a file the case wrote (for after-checks). */
export const readIn = (c: CorpusContext, rel: string): string => readFileSync(join(c.dir, rel), "utf8");
