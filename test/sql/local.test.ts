/**
 * The planner checked against DuckDB alone: each query is planned, its stages run by the local
 * plan executor (one task per file, the shuffle as hash partitions, one task per partition) and
 * compared with DuckDB running the query once over the same files. Floats within a relative
 * 1e-6; row order compared only where ORDER BY fixes it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import { parseTables } from "../../src/sql/tables.js";
import { assertSameResult, runDirect, runPlanLocally } from "../helpers/local-plan.js";
import { SQL_CASES as cases } from "../helpers/sql-cases.js";
import { makeSqlTestData, type SqlTestData } from "../helpers/sql-data.js";

describe("planned SQL equals DuckDB alone (local plan executor)", () => {
  let data: SqlTestData;
  let db: DuckDb;
  let session: SqlSession;
  before(async () => {
    data = await makeSqlTestData();
    db = await openDuckDb({ threads: 1 });
    session = await SqlSession.open();
  });
  after(() => {
    db?.close();
    session?.close();
  });

  for (const [label, sql, ordered, options, strategy] of cases) {
    test(label, async () => {
      const plan = await planQuery(sql, data.tables, { partitions: 4, ...options }, session);
      if (strategy) assert.match(plan.strategy + plan.notes.join(" "), strategy, `${label}: ${plan.strategy}`);
      const got = await runPlanLocally(db, plan, data.files);
      const want = await runDirect(db, sql, parseTables(data.tables), data.files);
      assertSameResult(got, want, ordered, label);
      if (!/empty|nothing/.test(label)) assert.ok(want.rows.length > 0, `${label}: the query returns rows`);
      if (plan.stages[0]?.tasks.kind === "splits") assert.ok((got.tasks[0] ?? 0) >= 3, `${label}: several splits`);
    });
  }

  test(`at least 40 queries are checked (${cases.length})`, () => assert.ok(cases.length >= 40));
});
