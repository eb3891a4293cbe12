/**
 * The cold DuckDB process of `npm run bench cold`: a fresh `node` that loads @duckdb/node-api (and
 * nothing else of Smelter's), runs one Query 2 into table `result`, and prints what
 * `smelter query2 --quiet` prints: the top rows by adRevenue and the group count.
 *
 *   node dist/bench/_duckdb-cold.js <threads> <limit> <sql>
 *
 * The SQL comes from the benchmark (bench/_peers.ts query2Sql over the same files), so both
 * processes read the same files with the same reader options.
 */
import { createRequire } from "node:module";

// Loaded with `require`, as Smelter loads it (src/duckdb/index.ts): the cheaper of the two ways
// for this CommonJS package, so the baseline does not pay a start Smelter avoids.
const { DuckDBInstance } = createRequire(import.meta.url)("@duckdb/node-api") as typeof import("@duckdb/node-api");

const [threads, limit, sql] = process.argv.slice(2);
if (!threads || !limit || !sql) {
  process.stderr.write("usage: node _duckdb-cold.js <threads> <limit> <sql>\n");
  process.exit(2);
}
const instance = await DuckDBInstance.create(":memory:", { threads });
const connection = await instance.connect();
await connection.run(`CREATE TABLE result AS ${sql}`);
const top = (await connection.runAndReadAll(`SELECT prefix, adRevenue FROM result ORDER BY adRevenue DESC, prefix LIMIT ${Number(limit)}`)).getRows();
const groups = Number((await connection.runAndReadAll("SELECT count(*) FROM result")).getRows()[0]![0]);
const lines = top.map(([prefix, sum]) => `${String(prefix)}  ${String(sum)}`);
process.stdout.write(`${lines.join("\n")}\n${groups.toLocaleString("en-US")} groups\n`);
connection.closeSync();
instance.closeSync();
