/** Planner unit tests: the SQL of each stage, shuffle keys, join choice, top-k, and what is refused with which message. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { explainFlagsSchema, explain } from "../../src/cli/explain.js";
import { parseFlags } from "../../src/cli/common.js";
import { formatPlan } from "../../src/query/explain.js";
import type { PlanOptions } from "../../src/sql/model.js";
import { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import { BDB_SCHEMAS, parseSchema, type SqlTableInput } from "../../src/sql/tables.js";
import { makeSqlTestData } from "../helpers/sql-data.js";

const MiB = 1024 * 1024;
const tables = (rankingsBytes = MiB): SqlTableInput[] => [
  { name: "uservisits", url: "s3://b/uv/", format: "csv", columns: BDB_SCHEMAS.uservisits!, bytes: 10_000 * MiB },
  { name: "rankings", url: "s3://b/rk/", format: "parquet", columns: BDB_SCHEMAS.rankings!, bytes: rankingsBytes },
];

describe("planner", () => {
  let session: SqlSession;
  before(async () => {
    session = await SqlSession.open();
  });
  after(() => session.close());
  const plan = (sql: string, options: PlanOptions = {}, t = tables()) => planQuery(sql, t, { partitions: 8, ...options }, session);
  const refused = async (sql: string, message: RegExp, options: PlanOptions = {}) => assert.rejects(plan(sql, options), (err: Error) => {
    assert.equal(err.name, "ConfigError");
    assert.match(err.message, message);
    return true;
  });

  test("join choice by bytes: broadcast while the small side is at most two splits of the big one", async () => {
    const Q = "SELECT sourceIP, sum(pageRank) FROM rankings AS r JOIN uservisits AS v ON r.pageURL = v.destURL GROUP BY 1";
    const sized = (rk: number, splits: number): SqlTableInput[] => [{ ...tables()[0]!, splits }, { ...tables(rk)[1]! }];
    // 100 splits of 100 MiB: 150 MiB of rankings is under two splits (and under 4 x 64 MiB).
    assert.match(formatPlan(await plan(Q, {}, sized(150 * MiB, 100))), /^note: broadcast join: .*\(rankings \(150\.0 MiB\) at most two splits of uservisits \(100\.0 MiB each\)\)$/m);
    // Smaller splits, or a side over 4 x the threshold: partitioned.
    assert.match(formatPlan(await plan(Q, {}, sized(150 * MiB, 1000))), /^note: partitioned join: .*above the broadcast threshold/m);
    assert.match(formatPlan(await plan(Q, {}, sized(300 * MiB, 10))), /^note: partitioned join: .*above the broadcast threshold/m);
    // Unknown split count: the threshold alone decides.
    assert.match(formatPlan(await plan(Q, {}, tables(100 * MiB))), /^note: partitioned join:/m);
  });

  test("Query 2A: partial sums per split, shuffle by the prefix, final sums, coordinator names", async () => {
    const p = await plan("SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)");
    assert.equal(p.stages.length, 2);
    const [leaf, final] = p.stages;
    assert.deepEqual(leaf!.tasks, { kind: "splits", table: "uservisits" });
    assert.equal(leaf!.sql, "SELECT substr(sourceIP, 1, 8) AS __k0, sum(adRevenue) AS __a0 FROM uservisits GROUP BY substr(sourceIP, 1, 8)");
    assert.deepEqual(leaf!.output, { kind: "shuffle", partitions: 8, keys: ['"__k0"'], partitionBy: 'hash("__k0") % 8' });
    assert.deepEqual(final!.tasks, { kind: "partitions", count: 8 });
    assert.deepEqual(final!.inputs, [{ view: "__s1", stage: 1, read: "partition" }]);
    assert.match(final!.sql, /sum\(__a0\) AS __a0 FROM __s1 GROUP BY __k0/);
    assert.equal(p.coordinator.sql, 'SELECT __c0 AS "substr(sourceIP, 1, 8)", __c1 AS "sum(adRevenue)" FROM __s2');
    assert.deepEqual(p.columns.map((c) => c.name), ["substr(sourceIP, 1, 8)", "sum(adRevenue)"]);
  });

  test("no --partitions and small partials (Query 2's rule): the partials are gathered and the coordinator runs the final aggregate; big ones keep reducers", async () => {
    const small = (mib: number): SqlTableInput[] => [{ ...tables()[0]!, bytes: mib * MiB }, { ...tables()[1]!, bytes: 0 }];
    const Q = "SELECT SUBSTR(sourceIP, 1, 8) AS p, SUM(adRevenue) AS r FROM uservisits GROUP BY 1 HAVING sum(adRevenue) > 1 ORDER BY r DESC LIMIT 3";
    // 2 GiB of input: partials ~256 MiB, one reducer's budget.
    const p = await plan(Q, { partitions: undefined, workers: 4 }, small(2048));
    assert.equal(p.stages.length, 1);
    assert.deepEqual(p.stages[0]!.output, { kind: "gather" });
    assert.match(p.strategy, /partial aggregates, gathered; final aggregate on the coordinator/);
    assert.match(p.coordinator.sql, /sum\(__a0\) AS __a0 FROM __s1 GROUP BY __k0\) AS __g WHERE \(__a0 > 1\)\) AS __r ORDER BY __c1 DESC LIMIT 3/);
    assert.equal(p.coordinator.resultStage, null);
    const text = formatPlan(p);
    assert.match(text, /^note: partials ~256\.0 MiB \(1\/8 of the input's 2\.00 GiB\), at most one reducer's 256\.0 MiB: the final aggregate runs on the coordinator over the gathered partials \(no final stage\); pass --partitions R for R reducers$/m);
    assert.match(text, /output: gathered on the coordinator/);
    // Just over: reducers, R from the bytes (at least the workers).
    const big = await plan(Q, { partitions: undefined, workers: 4 }, small(2049));
    assert.equal(big.stages.length, 2);
    assert.deepEqual(big.stages[1]!.tasks, { kind: "partitions", count: 4 });
    assert.ok(!big.notes.some((n) => /merged|runs on the coordinator/.test(n)));
    // An explicit R keeps the final stage however small the input.
    assert.equal((await plan(Q, { partitions: 2 }, small(1))).stages.length, 2);
    // Unknown sizes: reducers.
    assert.equal((await plan(Q, { partitions: undefined }, tables().map(({ bytes: _, ...t }) => t))).stages.length, 2);
    // COUNT(DISTINCT): distinct pairs gathered, both levels on the coordinator; raw rows keep their shuffle.
    const d = await plan("SELECT countryCode, count(DISTINCT searchWord) FROM uservisits GROUP BY 1", { partitions: undefined }, small(1));
    assert.equal(d.stages.length, 1);
    assert.match(d.coordinator.sql, /count\(DISTINCT __d\) AS __a0 FROM __s1 GROUP BY __k0\) AS __d GROUP BY __k0/);
    const raw = await plan("SELECT countryCode, median(duration) FROM uservisits GROUP BY 1", { partitions: undefined }, small(1));
    assert.equal(raw.stages.length, 2);
  });

  test("AVG travels as sum and count; COUNT is summed, NULL-safe; HAVING and the top-k run in the final stage", async () => {
    const p = await plan("SELECT countryCode, avg(duration) AS a, count(*) AS n FROM uservisits GROUP BY 1 HAVING count(*) > 3 ORDER BY a DESC LIMIT 5");
    assert.match(p.stages[0]!.sql, /sum\(duration\) AS __a0_s, count\(duration\) AS __a0_c, count_star\(\) AS __a1/);
    assert.match(p.stages[1]!.sql, /CAST\(sum\(__a0_s\) AS DOUBLE\) \/ sum\(__a0_c\)/);
    assert.match(p.stages[1]!.sql, /CAST\(COALESCE\(sum\(__a1\), 0\) AS BIGINT\)/);
    assert.match(p.stages[1]!.sql, /WHERE \(__a1 > 3\) ORDER BY __c1 DESC LIMIT 5$/);
    assert.match(p.coordinator.sql, /ORDER BY __c1 DESC LIMIT 5$/);
  });

  test("no GROUP BY: partials per split, the final aggregate on the coordinator", async () => {
    const p = await plan("SELECT count(*), max(visitDate) FROM uservisits WHERE duration > 3");
    assert.equal(p.stages.length, 1);
    assert.deepEqual(p.stages[0]!.output, { kind: "gather" });
    assert.match(p.stages[0]!.sql, /WHERE \(duration > 3\)$/);
    assert.match(p.coordinator.sql, /FROM __s1\) AS __g\) AS __r$/);
  });

  test("a scan with ORDER BY + LIMIT keeps the top k in every leaf; LIMIT with OFFSET keeps limit + offset", async () => {
    const p = await plan("SELECT pageURL, pageRank FROM rankings WHERE pageRank > 10 ORDER BY pageRank DESC LIMIT 10 OFFSET 5");
    assert.equal(p.stages.length, 1);
    assert.match(p.stages[0]!.sql, /WHERE \(pageRank > 10\) ORDER BY __c1 DESC LIMIT 15$/);
    assert.match(p.coordinator.sql, /ORDER BY __c1 DESC LIMIT 10 OFFSET 5$/);
  });

  test("COUNT(DISTINCT x): shuffle by (keys, x), per-partition counts, summed; median: raw rows by the group keys", async () => {
    const d = await plan("SELECT countryCode, count(DISTINCT sourceIP) FROM uservisits GROUP BY countryCode");
    assert.equal(d.stages.length, 3);
    assert.deepEqual(d.stages[0]!.output.kind === "shuffle" && d.stages[0]!.output.keys, ['"__k0"', '"__d"']);
    assert.match(d.stages[1]!.sql, /count\(DISTINCT __d\)/);
    const m = await plan("SELECT countryCode, median(duration) FROM uservisits GROUP BY countryCode");
    assert.match(m.stages[0]!.sql, /^SELECT countryCode AS __k0, duration AS __v0 FROM uservisits$/);
    assert.match(m.stages[1]!.sql, /median\(__v0\)/);
    assert.match(m.notes.join(), /median\(\) cannot be split/);
  });

  test("joins: broadcast the small side by bytes, partitioned above the threshold, both chosen by option", async () => {
    const q = "SELECT sourceIP, sum(pageRank) FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL WHERE uv.duration > 2 GROUP BY sourceIP";
    const b = await plan(q);
    assert.deepEqual(b.stages[0]!.inputs, [{ view: "uservisits", table: "uservisits", read: "split" }, { view: "rankings", table: "rankings", read: "whole" }]);
    const big = await plan(q, {}, tables(1000 * MiB));
    assert.equal(big.stages.length, 4);
    assert.equal(big.stages[0]!.sql, "SELECT sourceIP, destURL, duration FROM uservisits AS uv WHERE (uv.duration > 2)");
    assert.deepEqual(big.stages[0]!.output.kind === "shuffle" && big.stages[0]!.output.keys, ["destURL"]);
    assert.deepEqual(big.stages[1]!.output.kind === "shuffle" && big.stages[1]!.output.keys, ["pageURL"]);
    assert.deepEqual(big.stages[2]!.inputs.map((i) => i.view), ["uservisits", "rankings"]);
    assert.match((await plan(q, { broadcastBytes: 1 })).strategy, /partitioned/);
    assert.match((await plan(q, { join: "broadcast" }, tables(1000 * MiB))).strategy, /broadcast/);
    assert.match((await plan(q, { join: "partitioned" })).strategy, /partitioned/);
  });

  test("a filtered CTE or subquery joined: partitioned when big or forced (scanned by a stage of its own, joined as its view); explain says when a partitioned join is impossible", async () => {
    const q = "WITH v AS (SELECT sourceIP, destURL FROM uservisits WHERE duration > 2) SELECT sourceIP, sum(pageRank) FROM rankings r JOIN v ON v.destURL = r.pageURL GROUP BY sourceIP";
    assert.match((await plan(q)).notes.join(), /broadcast join: each task reads one split of uservisits and all of rankings/);
    for (const p of [await plan(q, {}, tables(1000 * MiB)), await plan(q, { join: "partitioned" })]) {
      assert.equal(p.stages[1]!.name, "scan subquery v of uservisits for the join");
      assert.equal(p.stages[1]!.sql, "SELECT sourceIP, destURL FROM (SELECT sourceIP, destURL FROM uservisits WHERE (duration > 2)) AS v");
      assert.deepEqual(p.stages[1]!.output.kind === "shuffle" && p.stages[1]!.output.keys, ["destURL"]);
      assert.deepEqual(p.stages[2]!.inputs, [{ view: "rankings", stage: 1, read: "partition" }, { view: "__s2", stage: 2, read: "partition" }]);
      assert.match(p.stages[2]!.sql, /FROM rankings AS r INNER JOIN __s2 AS v ON/);
      const text = formatPlan(p);
      assert.match(text, /^plan: partitioned join rankings \+ uservisits/m);
      assert.match(text, /^note: partitioned join: both sides shuffled by the join keys into 8 partitions \((rankings \(1000\.0 MiB\) above the broadcast threshold 64\.0 MiB|partitioned join forced)\)$/m);
    }
    const three: SqlTableInput[] = [...tables(1000 * MiB), { name: "rk2", url: "s3://b/rk2/", format: "parquet", columns: BDB_SCHEMAS.rankings!, bytes: 100 * MiB }];
    const p = await plan("SELECT count(*) FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL JOIN (SELECT pageURL FROM rk2 WHERE pageRank > 3) p ON p.pageURL = r.pageURL", {}, three);
    assert.match(formatPlan(p), /^note: broadcast join: each task reads one split of uservisits and all of rankings, rk2 \(NOT partitioned although rankings \(1000\.0 MiB\), rk2 \(100\.0 MiB\) above the broadcast threshold 64\.0 MiB: a partitioned join reads two tables or filtered subqueries of tables, this join reads 3\)$/m);
  });

  test("refused, naming the construct", async () => {
    await refused("SELECT sourceIP, row_number() OVER (PARTITION BY countryCode) FROM uservisits", /window function row_number\(\) OVER .* cannot be distributed/);
    // Was "aggregate with GROUP BY instead", said of a query that had GROUP BY.
    await refused("SELECT countryCode, sum(duration), sum(sum(duration)) OVER () FROM uservisits GROUP BY 1", /window function sum\(\) OVER .* cannot be distributed: .*compute it in an outer query over an aggregate subquery, which runs on the coordinator/);
    await refused("SELECT * FROM uservisits WHERE destURL IN (SELECT pageURL FROM rankings)", /an IN \(SELECT \.\.\.\) or ANY subquery in an expression cannot be distributed/);
    await refused("SELECT uv.sourceIP FROM uservisits uv ANTI JOIN rankings r ON uv.destURL = r.pageURL", /an ANTI join cannot be distributed/);
    await refused("SELECT sourceIP FROM uservisits UNION ALL SELECT pageURL FROM rankings", /set operations .* cannot be distributed/);
    await refused("SELECT countryCode, count(*) FROM uservisits GROUP BY ROLLUP (countryCode)", /GROUPING SETS \/ ROLLUP \/ CUBE/);
    await refused("SELECT a.sourceIP FROM uservisits a JOIN uservisits b ON a.sourceIP = b.sourceIP", /self-join/);
    await refused("SELECT median(duration) FROM uservisits", /median\(\) without GROUP BY cannot be distributed.*--allow-single-task/);
    await refused("SELECT 1", /a query without FROM/);
    await refused("SELECT * FROM nope", /table nope does not exist: a query reads only the tables given with --table NAME=URL \(here: uservisits, rankings\)/);
    await refused("SELECT FROM WHERE", /^\[smelter\] \[sql\] syntax error at or near "WHERE" .*: SELECT FROM WHERE$/);
    await refused("SELECT 1; SELECT 2", /expected one SELECT statement, got 2/);
  });

  test("every refusal says what to do: rewrite the query, or --allow-single-task", async () => {
    await refused("SELECT a.sourceIP FROM uservisits a JOIN uservisits b ON a.sourceIP = b.sourceIP", /a self-join \(uservisits read twice\) cannot be distributed: define the table a second time under another name \(--table uservisits2=<the same URL>\) and join the two, or pass --allow-single-task/);
    await refused("SELECT * FROM uservisits USING SAMPLE 10%", /USING SAMPLE cannot be distributed: .*pass --allow-single-task/);
    // Each split took its own sample (TABLESAMPLE 5 ROWS gave 10 rows over two tasks); TABLESAMPLE 10% failed to print back (a whole-number DOUBLE read as an integer).
    await refused("SELECT count(*) FROM uservisits TABLESAMPLE 5 ROWS", /TABLESAMPLE cannot be distributed: a sample of every split is not a sample of the table; pass --allow-single-task/);
    await refused("SELECT count(*) FROM uservisits uv JOIN rankings r TABLESAMPLE 10% ON uv.destURL = r.pageURL", /TABLESAMPLE cannot be distributed/);
    assert.deepEqual((await plan("SELECT count(*) FROM uservisits TABLESAMPLE 10%", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    // A tree holding a whole-number DOUBLE outside an expression prints back (was: "property 'value' expected type 'double', but got type: 'uint'").
    for (const q of ["SELECT count(*) FROM uservisits TABLESAMPLE 10%", "SELECT count(*) FROM (SELECT * FROM uservisits USING SAMPLE 25% (bernoulli, 7)) AS s"]) {
      assert.match(await session.print(await session.parse(q)), /(10|25)\.0( PERCENT|%)/, q);
    }
    await refused("SELECT sourceIP FROM uservisits QUALIFY row_number() OVER (PARTITION BY countryCode ORDER BY visitDate) = 1", /QUALIFY cannot be distributed: .*window functions.*pass --allow-single-task/);
    await refused("SELECT sourceIP FROM uservisits UNION ALL SELECT pageURL FROM rankings", /set operations .* cannot be distributed yet: run each SELECT on its own, or pass --allow-single-task/);
    await refused("SELECT count(*) FROM (SELECT sourceIP FROM uservisits UNION SELECT pageURL FROM rankings) t", /a set operation \(UNION, EXCEPT, INTERSECT\) in FROM cannot be distributed: run each SELECT on its own, or pass --allow-single-task/);
    await refused("SELECT uv.sourceIP FROM uservisits uv SEMI JOIN rankings r ON uv.destURL = r.pageURL", /a SEMI join cannot be distributed: use INNER, LEFT, RIGHT or FULL joins/);
    // The DISTINCT is what forces every row to one place, not count(*).
    await refused("SELECT count(*), count(DISTINCT countryCode) FROM uservisits", /count\(DISTINCT \.\.\.\) beside other aggregates without GROUP BY cannot be distributed: a DISTINCT aggregate without GROUP BY is planned alone/);
    await refused("SELECT count(*), median(duration) FROM uservisits", /the aggregates median\(\) without GROUP BY/);
    // A table's whole row as a value: the stages read only the columns named (its other fields came back NULL from Parquet).
    await refused("SELECT uservisits FROM uservisits WHERE duration > 3", /the whole row of uservisits used as a value \(uservisits as a STRUCT\) cannot be distributed: name the fields you need \(\{'sourceIP': uservisits\.sourceIP, \.\.\.\}\) or select uservisits\.\*, or pass --allow-single-task/);
    await refused("SELECT countryCode, count(DISTINCT uv) FROM uservisits uv GROUP BY 1", /the whole row of uv used as a value/);
    assert.deepEqual((await plan("SELECT uv FROM uservisits uv WHERE duration > 3", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    // The plan's own names: a select alias __c1 was taken for the plan's column __c1 in ORDER BY (rows came back ordered by -id).
    await refused("SELECT -duration AS __c1, duration FROM uservisits ORDER BY duration", /the name __c1 starts with __, which Smelter keeps for its plan's columns: rename it/);
    // A row value cannot be a stage's column (was DuckDB's parser error on Smelter's own CREATE TABLE).
    await refused("SELECT count(DISTINCT (countryCode, languageCode)) FROM uservisits", /a row value such as \(a, b\) \(an unnamed STRUCT: STRUCT\(VARCHAR, VARCHAR\)\) cannot be distributed: .*name its fields.*--allow-single-task/);
    assert.deepEqual((await plan("SELECT count(DISTINCT (countryCode, languageCode)) FROM uservisits", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    // Named as the user wrote them, with the way out (were: "a EXPRESSION_LIST in FROM", "PIVOT in FROM cannot be used: a query reads only the tables given", the CTE aliases message for a recursive CTE).
    await refused("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT count(*) FROM uservisits JOIN r ON duration = r.n", /a recursive CTE \(WITH RECURSIVE r\) cannot be distributed: pass --allow-single-task/);
    await refused("SELECT * FROM (VALUES (1)) v(k)", /a VALUES list in FROM cannot be distributed: .*--allow-single-task/);
    await refused("SELECT * FROM rankings PIVOT (sum(pageRank) FOR pageURL IN ('a', 'b'))", /PIVOT in FROM cannot be distributed: pass --allow-single-task/);
    await refused("SELECT * FROM rankings UNPIVOT (v FOR c IN (pageRank, avgDuration))", /UNPIVOT in FROM cannot be distributed: pass --allow-single-task/);
    await refused("SELECT * FROM read_csv('/etc/passwd') PIVOT (count(*) FOR column0 IN ('a'))", /table functions cannot be used/);
    // A task's own session: setseed() repeated random() across tasks (2,000-3,000 distinct of 4,000); current_setting() read the task's threads = 1.
    await refused("SELECT setseed(0.1) AS s, random() AS r FROM uservisits", /setseed\(\) cannot be distributed: each task runs in a session of its own.*pass --allow-single-task/);
    assert.deepEqual((await plan("SELECT setseed(0.1) AS s, random() AS r FROM uservisits", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    await refused("SELECT count(*), current_setting('threads') FROM uservisits", /current_setting\(\) cannot be distributed: .*even as one task: leave it out/, { allowSingleTask: true });
    // Expansions DuckDB makes when it binds are named, with --allow-single-task (was "this select list ... expands to 3 columns in DuckDB but 1 here; list the columns").
    await refused("SELECT max(COLUMNS(*)) FROM rankings", /COLUMNS\(\.\.\.\), \* LIKE or \* SIMILAR TO in an expression cannot be distributed: list the columns, or pass --allow-single-task/);
    // Positions after it counted it as one item (was "ORDER BY 2 is not in the select list (it has 1 items)", with --allow-single-task too).
    assert.deepEqual((await plan("SELECT COLUMNS(*)::VARCHAR FROM rankings ORDER BY 1, 2", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    await refused("SELECT * LIKE 'page%' FROM rankings", /\* LIKE or \* SIMILAR TO in an expression cannot be distributed/);
    await refused("SELECT COLUMNS('page.*') FROM rankings", /COLUMNS\(\.\.\.\) cannot be distributed: list the columns, or pass --allow-single-task/);
    // unnest in FROM reads no file (was "table functions cannot be used ... reads only the tables given", even with --allow-single-task); what it unnests is still checked.
    await refused("SELECT pageURL, x FROM rankings, unnest([pageRank, avgDuration]) AS u(x)", /unnest\(\.\.\.\) in FROM \(a lateral join\) cannot be distributed: unnest in the select list instead.*--allow-single-task/);
    assert.deepEqual((await plan("SELECT pageURL, x FROM rankings, unnest([pageRank, avgDuration]) AS u(x)", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    await refused("SELECT * FROM unnest((SELECT list(x) FROM read_csv('/etc/passwd')))", /table functions cannot be used \(read_csv/, { allowSingleTask: true });
    // range() and generate_series() read no file either: named by the planner, run by --allow-single-task (was "table functions cannot be used" with no way out).
    await refused("SELECT pageURL, r.range FROM rankings, range(2) r", /a table function in FROM cannot be distributed: .*--allow-single-task/);
    assert.deepEqual((await plan("SELECT pageURL, g.generate_series FROM rankings, generate_series(1, 2) g", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    await refused("SELECT * FROM range((SELECT count(*) FROM read_csv('/etc/passwd')))", /table functions cannot be used \(read_csv/, { allowSingleTask: true });
    // The PIVOT statement without an IN list is several statements to DuckDB (was only "only SELECT queries are supported").
    await refused("PIVOT rankings ON pageURL USING sum(pageRank)", /only SELECT queries are supported \(a PIVOT whose ON columns have no IN list .*ON x IN \('a', 'b'\), and pass --allow-single-task\)/, { allowSingleTask: true });
    assert.deepEqual((await plan("PIVOT rankings ON pageURL IN ('a', 'b') USING sum(pageRank)", { allowSingleTask: true })).stages.map((s) => s.tasks.kind), ["single"]);
    await refused("SELECT count(*) FROM uservisits uv JOIN rankings r ON uv.duration < r.pageRank", /this join, partitioned \(--join partitioned\) cannot be distributed: a partitioned join needs an equality .*; without --join partitioned it is broadcast, or pass --allow-single-task/, { join: "partitioned" });
    // An aggregate macro is an aggregate (was planned as a scan: one row per task).
    await refused("SELECT geomean(duration), weighted_avg(adRevenue, duration) FROM uservisits", /the aggregates geomean\(\), weighted_avg\(\) without GROUP BY cannot be distributed/);
    // Values equal under a collation would hash apart (3 groups for 1).
    await refused("SELECT countryCode COLLATE nocase AS c, count(*) FROM uservisits GROUP BY 1", /COLLATE nocase outside ORDER BY cannot be distributed: compare with lower\(\)/);
    await refused("SELECT count(*) FROM uservisits v JOIN rankings r ON v.destURL COLLATE nocase = r.pageURL", /COLLATE nocase outside ORDER BY/);
    assert.ok((await plan("SELECT countryCode, count(*) AS n FROM uservisits GROUP BY 1 ORDER BY countryCode COLLATE nocase")).stages.length >= 1, "COLLATE in ORDER BY is planned");
    await refused("SELECT countryCode, union_value(num := count(*)) AS u FROM uservisits GROUP BY 1", /column u is a UNION .*cannot pass between tasks.*union_extract/);
    // The query's own instant: each task would take its own (count(DISTINCT now()) was the task count).
    await refused("SELECT count(DISTINCT now()) FROM uservisits", /now\(\) cannot be distributed: each task would take its own time.*literal.*--allow-single-task/);
    await refused("SELECT countryCode, min(current_timestamp) FROM uservisits GROUP BY 1", /current_timestamp cannot be distributed/);
    await refused("SELECT count(*) FROM (SELECT * FROM uservisits WHERE visitDate < current_date) AS t", /current_date cannot be distributed/);
    await refused("SELECT count(*) FROM uservisits WHERE visitDate < today()", /today\(\) cannot be distributed/);
    const named = [{ ...tables()[0]!, columns: [...tables()[0]!.columns, { name: "current_date", type: "DATE" }] }, tables()[1]!];
    assert.equal((await plan("SELECT max(current_date) FROM uservisits GROUP BY countryCode", {}, named)).columns.length, 1, "a column named current_date is a column");
    const once = await plan("SELECT count(DISTINCT now()) FROM uservisits", { allowSingleTask: true });
    assert.deepEqual(once.stages.map((s) => s.tasks.kind), ["single"]);
    const union = await plan("SELECT sourceIP FROM uservisits UNION ALL SELECT pageURL FROM rankings", { allowSingleTask: true });
    assert.deepEqual(union.stages.map((s) => s.tasks.kind), ["single"]);
    assert.match(union.notes[0]!, /not distributed: set operations/);
  });

  test("repeated result names are renamed as DuckDB names a stored result (x, x_1); the stage whose rows are the result", async () => {
    const p = await plan("SELECT countryCode AS c, count(*), count(*), sum(duration) AS C FROM uservisits GROUP BY 1");
    assert.deepEqual(p.columns.map((c) => c.name), ["c", "count_star()", "count_star()_1", "C_1"]);
    assert.match(p.coordinator.sql, /__c2 AS "count_star\(\)_1", __c3 AS C_1 FROM __s2$/);
    assert.equal(p.coordinator.resultStage, 2, "the final stage's rows are the result");
    const j = await plan("SELECT uv.sourceIP, r.pageURL, uv.destURL AS pageURL FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL");
    assert.deepEqual(j.columns.map((c) => c.name), ["sourceIP", "pageURL", "pageURL_1"]);
    assert.equal(j.coordinator.resultStage, 1);
    for (const q of ["SELECT count(*) FROM uservisits", "SELECT countryCode, count(*) FROM uservisits GROUP BY 1 ORDER BY 2", "SELECT DISTINCT countryCode FROM uservisits", "SELECT sourceIP FROM uservisits LIMIT 3"]) {
      assert.equal((await plan(q)).coordinator.resultStage, null, `${q}: the coordinator still has work to do`);
    }
  });

  test("--allow-single-task: one task over every input, for what is exact only that way", async () => {
    const p = await plan("SELECT sourceIP, row_number() OVER (ORDER BY visitDate) FROM uservisits", { allowSingleTask: true });
    assert.equal(p.stages.length, 1);
    assert.deepEqual(p.stages[0]!.tasks, { kind: "single" });
    assert.match(p.notes[0]!, /not distributed: the window function/);
    const m = await plan("SELECT median(duration) FROM uservisits", { allowSingleTask: true });
    assert.match(m.coordinator.sql, /median\(__v0\)/);
  });

  test("integer literals beyond 2^53 stay exact through the tree", async () => {
    const p = await plan("SELECT count(*) FROM uservisits WHERE duration < 9007199254740993");
    assert.match(p.stages[0]!.sql, /9007199254740993/);
  });

  test("schemas: bdb names and column lists", () => {
    assert.equal(parseSchema("bdb:rankings").length, 3);
    assert.deepEqual(parseSchema('a VARCHAR, "b c" DECIMAL(10, 2)'), [{ name: "a", type: "VARCHAR" }, { name: "b c", type: "DECIMAL(10, 2)" }]);
    assert.throws(() => parseSchema("bdb:nope"), /unknown schema/);
    assert.throws(() => parseSchema("justaname"), /write columns as/);
  });

  test("smelter explain: flags checked, tables listed once, the tasks and splits that run and the stages printed", async () => {
    assert.throws(() => parseFlags(explainFlagsSchema, { query: "SELECT 1", table: ["oops"] }), /--table takes NAME=VALUE/);
    assert.throws(() => parseFlags(explainFlagsSchema, { query: "SELECT 1", table: [] }), /--table NAME=URL is required/);
    const data = await makeSqlTestData({ uservisits: 600, rankings: 60 });
    const flags = parseFlags(explainFlagsSchema, { query: "SELECT countryCode, count(*) FROM uservisits GROUP BY 1", table: [`uservisits=${data.dir}/uv-csv/`], schema: ["uservisits=bdb:uservisits"], partitions: "3", workers: "2" });
    const text = await explain(flags);
    assert.match(text, /table uservisits: .* \(csv, no header, delimiter ",".*; 4 objects, /);
    // Four small objects packed into one task of at least 4 MiB: the task and its splits as they run.
    assert.match(text, /stage 1: scan uservisits: partial aggregate\n {2}tasks: 1 \(splits of uservisits, .*packed ~4\.0 MiB a task\)\n {4}task 0: 4 splits: part-00000, part-00001, part-00002, \.\.\.\n/);
    assert.match(text, /output: shuffle by "__k0" into 3 partitions/);
    assert.match(text, /coordinator: SELECT __c0 AS countryCode/);
    const merged = await explain({ ...flags, partitions: undefined });
    assert.match(merged, /^plan: scan uservisits; partial aggregates, gathered; final aggregate on the coordinator$/m);
    assert.match(merged, /^note: partials ~.* at most one reducer's 256\.0 MiB: the final aggregate runs on the coordinator .*; pass --partitions R for R reducers$/m);
    const parquet = await explain(parseFlags(explainFlagsSchema, { query: "SELECT max(duration) FROM uv", table: [`uv=${data.dir}/uv-parquet/`], format: "json" }));
    assert.match(parquet, /"read": "split"/);
    await assert.rejects(explain(parseFlags(explainFlagsSchema, { query: "SELECT 1 FROM uv", table: [`uv=${data.dir}/uv-csv/`] })), /has no header line: pass --schema uv=/);
    assert.ok(formatPlan(await plan("SELECT 1 AS one FROM rankings")).includes("gathered on the coordinator"));
  });
});
