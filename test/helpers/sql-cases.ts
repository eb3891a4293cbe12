/**
 * The differential SQL queries over the tables of sql-data.ts: each is run by DuckDB alone and
 * through a plan (the local plan executor in test/sql/local.test.ts, the engine in
 * test/sql/engine.test.ts). Row order is compared only where `ordered` (ORDER BY fixes it).
 */
import type { PlanOptions } from "../../src/sql/model.js";

export const Q3 = `SELECT sourceIP, totalRevenue, avgPageRank FROM (
  SELECT sourceIP, AVG(pageRank) AS avgPageRank, SUM(adRevenue) AS totalRevenue
  FROM Rankings AS R, UserVisits AS UV
  WHERE R.pageURL = UV.destURL AND UV.visitDate BETWEEN Date('1980-01-01') AND Date('1995-01-01')
  GROUP BY UV.sourceIP) ORDER BY totalRevenue DESC LIMIT 1`;

/** [label, query, ordered, options, expected strategy fragment] */
export type SqlCase = [label: string, sql: string, ordered: boolean, options?: PlanOptions, strategy?: RegExp];

export const SQL_CASES: SqlCase[] = [
  ["BDB Q1 scan", "SELECT pageURL, pageRank FROM rankings WHERE pageRank > 40", false, {}, /rows concatenated/],
  ["BDB Q1 top-k", "SELECT pageURL, pageRank FROM rankings WHERE pageRank > 20 ORDER BY pageRank DESC, pageURL LIMIT 7", true, {}, /first 7 rows in ORDER BY order/],
  ["BDB Q2A", "SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)", false, { partitions: 4 }, /partial aggregates/],
  ["BDB Q2B parquet", "SELECT SUBSTR(sourceIP, 1, 10) AS p, SUM(adRevenue) FROM uv_parquet GROUP BY p", false, { partitions: 5 }],
  ["BDB Q2C R=1", "SELECT SUBSTR(sourceIP, 1, 12), SUM(adRevenue) FROM uservisits GROUP BY 1", false, { partitions: 1 }],
  ["BDB Q3 broadcast", Q3, true, {}, /broadcast join/],
  ["BDB Q3 partitioned", Q3, true, { join: "partitioned" }, /partitioned join/],
  ["every aggregate", "SELECT countryCode, COUNT(*), COUNT(searchWord), SUM(duration), MIN(adRevenue), MAX(visitDate), AVG(duration), AVG(adRevenue), mean(duration) FROM uservisits GROUP BY countryCode", false],
  ["NULLs grouped", "SELECT g, count(*), count(x), sum(x), min(y), max(d), avg(x), avg(y), min(s) FROM nulls GROUP BY g", false],
  ["NULLs global", "SELECT count(*), count(x), sum(x), avg(y), min(s), max(s), max(d) FROM nulls", false, {}, /coordinator/],
  ["NULLs ORDER BY NULLS FIRST", "SELECT g, sum(x) AS s FROM nulls GROUP BY g ORDER BY s DESC NULLS FIRST, g NULLS LAST", true],
  ["empty table, global", "SELECT count(*), sum(x), avg(y), min(g) FROM empty", false],
  ["empty table, grouped", "SELECT g, count(*) FROM empty GROUP BY g", false],
  ["filter keeps nothing, grouped", "SELECT countryCode, sum(adRevenue) FROM uservisits WHERE duration > 100 GROUP BY 1", false],
  ["filter keeps nothing, global", "SELECT count(*), sum(adRevenue), max(sourceIP) FROM uservisits WHERE duration > 100", false],
  ["filter keeps nothing, scan", "SELECT * FROM rankings WHERE pageRank < 0", false],
  ["several keys, CASE, date function", "SELECT languageCode, CASE WHEN duration > 5 THEN 'long' ELSE 'short' END AS len, year(visitDate) AS y, count(*) AS n, sum(adRevenue) FROM uservisits WHERE visitDate >= DATE '2000-01-01' GROUP BY 1, 2, 3", false],
  ["GROUP BY ALL", "SELECT countryCode, date_trunc('year', visitDate) AS yr, max(duration) FROM uv_parquet GROUP BY ALL", false],
  ["aggregates with FILTER", "SELECT countryCode, count(*) FILTER (WHERE duration > 5) AS longs, avg(adRevenue) FILTER (WHERE duration > 2) FROM uservisits GROUP BY 1", false, {}, /partial aggregates/],
  // json_deserialize_sql printed DOUBLE constants as bare numbers: 1e3 came back a DECIMAL, -0e0 as 0, and a whole one failed to plan.
  ["double literals: scientific notation, whole, -0e0", "SELECT countryCode, count(*) AS n, 1e3 AS thousand, typeof(2e0) AS t, 1 / -0.0e0 AS neg_inf, sum(adRevenue * 1e0) AS rev FROM uservisits WHERE adRevenue >= 0e0 AND duration < 1e18 GROUP BY countryCode", false],
  ["double literals in a scan", "SELECT pageURL, pageRank * 1e2 AS r, 1e300 AS big, 1e-7 AS small FROM rankings WHERE pageRank > 2e1", false],
  // An outer alias shadowing an inner column in ORDER BY: the top k was pushed into the inner final stage by the inner n.
  ["outer alias shadows an inner column in ORDER BY + LIMIT", "SELECT countryCode, -n AS n FROM (SELECT countryCode, count(*) AS n FROM uservisits GROUP BY 1) AS s ORDER BY n, countryCode LIMIT 3", true, { partitions: 3 }],
  // INTERVAL through a stage's Parquet kept milliseconds only.
  ["intervals keep microseconds through stages", "SELECT countryCode, max(to_microseconds(duration * 1000003 + 1)) AS iv, min(to_days(duration) + to_microseconds(7)) AS d FROM uservisits GROUP BY 1", false, { partitions: 3 }],
  ["intervals in a scan", "SELECT sourceIP, to_microseconds(duration + 1) AS iv FROM uservisits WHERE duration < 3", false],
  // A struct literal over aggregates and keys got the planner's internal names as its fields.
  ["struct literals over aggregates and keys", "SELECT countryCode, {'n': count(*), 'k': countryCode} AS st, struct_pack(m := max(duration)) AS p FROM uservisits GROUP BY countryCode", false, { partitions: 3 }],
  // Only an integer constant is a position: GROUP BY 'x' groups by the value (was refused as "a GROUP BY position").
  ["GROUP BY a string constant", "SELECT 'x' AS c, countryCode, count(*) AS n FROM uservisits GROUP BY 'x', countryCode ORDER BY n DESC, countryCode LIMIT 4", true],
  ["HAVING", "SELECT countryCode, count(*) AS n FROM uservisits GROUP BY countryCode HAVING count(*) > 20 AND avg(duration) > 5", false],
  ["ORDER BY aggregate LIMIT", "SELECT countryCode, sum(adRevenue) AS rev FROM uservisits GROUP BY 1 ORDER BY rev DESC LIMIT 5", true, { partitions: 3 }, /shuffled/],
  ["ORDER BY hidden aggregate, OFFSET", "SELECT countryCode FROM uservisits GROUP BY countryCode ORDER BY count(*) DESC, countryCode LIMIT 3 OFFSET 1", true],
  ["expressions over aggregates", "SELECT substr(sourceIP, 1, 3) || '-x' AS k, sum(adRevenue) / count(*) AS mean, max(duration) - min(duration) AS spread FROM uservisits GROUP BY substr(sourceIP, 1, 3)", false],
  ["COUNT(DISTINCT) grouped", "SELECT countryCode, count(DISTINCT searchWord) FROM uservisits GROUP BY countryCode", false, {}, /two-level/],
  ["COUNT(DISTINCT) global", "SELECT count(DISTINCT destURL), min(destURL) FROM uservisits", false, {}, /two-level/],
  ["COUNT(DISTINCT) next to SUM", "SELECT languageCode, count(DISTINCT countryCode), sum(duration) FROM uservisits GROUP BY languageCode", false, {}, /raw rows/],
  ["median, string_agg ORDER BY", "SELECT countryCode, median(duration), string_agg(DISTINCT languageCode, ',' ORDER BY languageCode) FROM uservisits GROUP BY countryCode", false, {}, /raw rows/],
  ["global median (single task allowed)", "SELECT median(x), quantile_cont(y, 0.5) FROM nulls", false, { allowSingleTask: true }],
  ["CTE", "WITH v AS (SELECT sourceIP, adRevenue * 2 AS rev FROM uservisits WHERE duration > 3) SELECT substr(sourceIP, 1, 5) AS p, sum(rev) FROM v GROUP BY p", false],
  ["subquery in FROM", "SELECT count(*), avg(pageRank) FROM (SELECT * FROM rankings WHERE pageRank > 25) r", false],
  ["join, broadcast, scan", "SELECT uv.sourceIP, r.pageRank FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL WHERE r.pageRank > 40", false, {}, /broadcast/],
  ["join, partitioned, scan", "SELECT uv.sourceIP, r.pageRank FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL WHERE r.pageRank > 40", false, { join: "partitioned" }, /partitioned/],
  ["LEFT JOIN, small side preserved (partitioned)", "SELECT r.pageURL, count(uv.sourceIP) AS visits FROM rankings r LEFT JOIN uservisits uv ON uv.destURL = r.pageURL GROUP BY r.pageURL", false, {}, /partitioned join/],
  ["LEFT JOIN, big side preserved (broadcast)", "SELECT uv.countryCode, count(r.pageRank), sum(r.pageRank) FROM uservisits uv LEFT JOIN rankings r ON uv.destURL = r.pageURL GROUP BY 1", false, {}, /broadcast/],
  ["SELECT DISTINCT", "SELECT DISTINCT countryCode, languageCode FROM uservisits", false],
  ["SELECT * ORDER BY", "SELECT * FROM rankings WHERE pageRank BETWEEN 10 AND 14 ORDER BY pageURL", true],
  ["aggregate of an aggregate subquery", "SELECT count(*), max(n) FROM (SELECT countryCode, count(*) AS n FROM uservisits GROUP BY countryCode) t", false, {}, /outer query/],
  ["window on the coordinator over an aggregate", "SELECT countryCode, n, rank() OVER (ORDER BY n DESC, countryCode) AS r FROM (SELECT countryCode, count(*) AS n FROM uservisits GROUP BY 1) ORDER BY r", true],
  ["BDB Q2B CSV", "SELECT SUBSTR(sourceIP, 1, 10), SUM(adRevenue) FROM uservisits GROUP BY 1", false, { partitions: 3 }, /partial aggregates/],
  ["BDB Q3, Parquet rankings + CSV visits, partitioned", Q3.replace("FROM Rankings", "FROM rk_parquet"), true, { join: "partitioned" }, /partitioned join/],
  ["top-k of a scan over several CSV files, OFFSET", "SELECT sourceIP, visitDate, adRevenue FROM uservisits WHERE countryCode <> 'USA' ORDER BY adRevenue DESC, sourceIP, visitDate LIMIT 12 OFFSET 3", true, {}, /first 15 rows in ORDER BY order/],
  ["DECIMAL, HUGEINT, dates, timestamps, strings: grouped", "SELECT k, avg(amount), sum(amount), min(amount), sum(big), avg(big), min(d), max(d), min(ts), max(ts), min(s), max(s), count(s) FROM typed GROUP BY k", false, {}, /partial aggregates/],
  ["DECIMAL, HUGEINT, dates: global", "SELECT avg(amount), sum(amount), max(amount), sum(big), max(big), min(d), max(ts), max(s) FROM typed", false, {}, /coordinator/],
  ["HUGEINT ORDER BY, HAVING on a DECIMAL sum", "SELECT k, sum(big) AS total, sum(amount) AS money FROM typed GROUP BY k HAVING sum(amount) < 0 ORDER BY total DESC", true],
  ["duplicate names: aggregates and aliases", "SELECT countryCode AS c, count(*), count(*), sum(duration) AS c, sum(duration) AS C FROM uservisits GROUP BY countryCode", false],
  ["duplicate names, global", "SELECT count(*), count(*), max(duration) AS n, min(duration) AS N FROM uservisits", false, {}, /coordinator/],
  ["duplicate names from a Parquet + CSV join", "SELECT a.pageRank, b.pageRank, a.pageURL FROM rankings a JOIN rk_parquet b ON a.pageURL = b.pageURL WHERE a.pageRank > 30", false, { join: "partitioned" }, /partitioned join/],
  ["COUNT(DISTINCT) on two keys, ORDER BY LIMIT", "SELECT countryCode, languageCode, count(DISTINCT searchWord) AS words FROM uservisits GROUP BY 1, 2 ORDER BY words DESC, 1, 2 LIMIT 10", true, {}, /two-level/],
  ["subquery in FROM joined (filter + projection)", "SELECT r.pageRank, count(*) AS visits FROM (SELECT destURL, duration FROM uservisits WHERE duration > 5) v JOIN rankings r ON v.destURL = r.pageURL GROUP BY r.pageRank", false, {}, /broadcast/],
  ["CTE feeding a join", "WITH good AS (SELECT pageURL, pageRank FROM rankings WHERE pageRank > 30) SELECT uv.countryCode, count(*), sum(g.pageRank) FROM uservisits uv JOIN good g ON uv.destURL = g.pageURL GROUP BY 1", false, {}, /broadcast/],
  ["subquery in FROM joined, partitioned", "SELECT r.pageRank, count(*) AS visits FROM (SELECT destURL, duration FROM uservisits WHERE duration > 5) v JOIN rankings r ON v.destURL = r.pageURL GROUP BY r.pageRank", false, { join: "partitioned" }, /partitioned join/],
  ["CTE feeding a join, partitioned", "WITH good AS (SELECT pageURL, pageRank FROM rankings WHERE pageRank > 30) SELECT uv.countryCode, count(*), sum(g.pageRank) FROM uservisits uv JOIN good g ON uv.destURL = g.pageURL GROUP BY 1", false, { join: "partitioned" }, /partitioned join/],
  ["subqueries on both sides, renamed and computed keys, LEFT JOIN, partitioned", "SELECT v.dest, count(*), sum(g.rank), max(v.d2) FROM (SELECT lower(destURL) AS dest, duration * 2 AS d2 FROM uservisits WHERE duration > 2) v LEFT JOIN (SELECT lower(pageURL) AS url, pageRank AS rank FROM rankings WHERE pageRank > 20) g ON v.dest = g.url AND g.rank < 90 GROUP BY v.dest", false, { join: "partitioned" }, /partitioned join/],
  ["subquery side above --broadcast-bytes: partitioned by size", "SELECT sourceIP, sum(pageRank) FROM uservisits uv JOIN (SELECT pageURL, pageRank FROM rk_parquet WHERE pageRank > 10) r ON uv.destURL = r.pageURL WHERE uv.duration > 1 GROUP BY sourceIP", false, { broadcastBytes: 1 }, /partitioned join.*above the broadcast threshold/],
  ["FULL JOIN of a CTE and a table (partitioned)", "WITH r AS (SELECT pageURL, pageRank FROM rankings WHERE pageRank % 2 = 0) SELECT r.pageRank IS NULL AS unranked, uv.duration, count(*) FROM r FULL JOIN uservisits uv ON r.pageURL = uv.destURL AND uv.duration = 1 GROUP BY ALL", false, {}, /partitioned join/],
  ["three relations above --broadcast-bytes: broadcast, the note says why not partitioned", "SELECT uv.countryCode, count(*), sum(p.pageRank) FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL JOIN (SELECT pageURL, pageRank FROM rk_parquet WHERE pageRank > 5) p ON r.pageURL = p.pageURL GROUP BY 1", false, { broadcastBytes: 1 }, /NOT partitioned although .* above the broadcast threshold.*this join reads 3/],
  ["join, big side on the right, broadcast", "SELECT r.pageURL, sum(uv.adRevenue), count(*) FROM rankings r JOIN uservisits uv ON r.pageURL = uv.destURL GROUP BY 1", false, {}, /broadcast join rankings into uservisits/],
  ["join, big side on the right, partitioned", "SELECT r.pageURL, sum(uv.adRevenue), count(*) FROM rankings r JOIN uservisits uv ON r.pageURL = uv.destURL GROUP BY 1", false, { join: "partitioned" }, /partitioned join/],
  ["RIGHT JOIN, big side preserved (broadcast)", "SELECT uv.languageCode, count(r.pageURL), count(*) FROM rankings r RIGHT JOIN uservisits uv ON r.pageURL = uv.destURL AND r.pageRank > 50 GROUP BY 1", false, {}, /broadcast/],
  ["FULL JOIN (partitioned)", "SELECT r.pageRank IS NULL AS unranked, uv.duration, count(*) FROM rankings r FULL JOIN uservisits uv ON r.pageURL = uv.destURL AND uv.duration = 1 GROUP BY ALL", false, {}, /partitioned join/],
  // No R given and small partials (every table here): the coordinator runs the final aggregate.
  ["BDB Q2A, no --partitions: final aggregate on the coordinator", "SELECT SUBSTR(sourceIP, 1, 8), SUM(adRevenue) FROM uservisits GROUP BY SUBSTR(sourceIP, 1, 8)", false, { partitions: undefined }, /gathered; final aggregate on the coordinator/],
  ["BDB Q2B parquet, no --partitions", "SELECT SUBSTR(sourceIP, 1, 10) AS p, SUM(adRevenue) FROM uv_parquet GROUP BY p", false, { partitions: undefined }, /gathered; final aggregate on the coordinator/],
  ["HAVING, ORDER BY, LIMIT, OFFSET, no --partitions", "SELECT countryCode, avg(duration) AS a, count(*) AS n FROM uservisits GROUP BY 1 HAVING count(*) > 3 ORDER BY a DESC, 1 LIMIT 5 OFFSET 1", true, { partitions: undefined }, /coordinator/],
  ["DECIMAL, HUGEINT, dates grouped, no --partitions", "SELECT k, avg(amount), sum(amount), min(amount), sum(big), avg(big), min(d), max(ts), count(s) FROM typed GROUP BY k", false, { partitions: undefined }, /partial aggregates, gathered/],
  ["empty table grouped, no --partitions", "SELECT g, count(*), sum(x) FROM empty GROUP BY g", false, { partitions: undefined }, /gathered/],
  ["COUNT(DISTINCT) grouped, no --partitions", "SELECT countryCode, count(DISTINCT searchWord), min(searchWord) FROM uservisits GROUP BY countryCode", false, { partitions: undefined }, /two-level distinct aggregates, gathered/],
  ["COUNT(DISTINCT) global, no --partitions", "SELECT count(DISTINCT destURL), max(destURL) FROM uservisits", false, { partitions: undefined }, /two-level distinct aggregates, gathered/],
  ["SELECT DISTINCT, no --partitions", "SELECT DISTINCT countryCode, languageCode FROM uservisits ORDER BY 1, 2", true, { partitions: undefined }, /gathered/],
  ["median, no --partitions: raw rows still shuffled", "SELECT countryCode, median(duration) FROM uservisits GROUP BY countryCode", false, { partitions: undefined }, /raw rows, shuffled/],
  ["BDB Q3 broadcast, no --partitions", Q3, true, { partitions: undefined }, /broadcast join.*gathered; final aggregate on the coordinator/],
  ["BDB Q3 partitioned, no --partitions", Q3, true, { partitions: undefined, join: "partitioned" }, /partitioned join.*gathered; final aggregate on the coordinator/],
  ["aggregate of an aggregate subquery, no --partitions", "SELECT count(*), max(n) FROM (SELECT countryCode, count(*) AS n FROM uservisits GROUP BY countryCode) t", false, { partitions: undefined }, /gathered.*outer query/],
  // DuckDB resolves a select alias in WHERE when no column has its name (was refused), and names an unaliased subquery in FROM unnamed_subquery (was refused).
  ["select alias in WHERE, a column of the same name wins", "SELECT duration * 2 AS z, adRevenue AS duration, countryCode FROM uservisits WHERE z > 4 AND duration >= 3 AND (z % 3 = 1 OR countryCode > 'M')", false],
  ["select alias in WHERE, grouped", "SELECT upper(countryCode) AS c, count(*), sum(duration) FROM uservisits WHERE c > 'F' GROUP BY c", false],
  ["unaliased subqueries in FROM, joined and named as DuckDB names them", "SELECT unnamed_subquery.c, count(*), sum(pageRank) FROM (SELECT countryCode AS c, destURL FROM uservisits WHERE duration > 2) JOIN (SELECT pageURL, pageRank FROM rankings) ON destURL = pageURL GROUP BY 1", false],
  // DuckDB's aggregate macros (geomean is exp(avg(ln(x)))): planned as plain expressions they ran once per task (one row per task).
  ["aggregate macros (geomean, weighted_avg, json_group_array), grouped", "SELECT countryCode, geomean(duration + 1) AS g, weighted_avg(adRevenue, duration) AS w, length(json_group_array(searchWord)::VARCHAR) AS j FROM uservisits GROUP BY 1", false],
  // A DECIMAL constant's value is unscaled in the parse tree: LIMIT 1.5 read as 15 rows (DuckDB casts it to 2).
  // 16 digits and more were refused as "not a whole number constant".
  ["LIMIT beyond 2^53 with OFFSET", "SELECT pageURL, pageRank FROM rankings ORDER BY pageRank DESC, pageURL LIMIT 9223372036854775807 OFFSET 3", true],
  ["LIMIT and OFFSET as decimal constants", "SELECT pageURL, pageRank FROM rankings ORDER BY pageRank DESC, pageURL LIMIT 2.5 OFFSET 1.5", true],
  // QUALIFY filters before the LIMIT: the inner final stage's top k was kept before it (0 rows for 2).
  ["QUALIFY over an aggregate subquery with ORDER BY and LIMIT", "SELECT countryCode, n FROM (SELECT countryCode, count(*) AS n FROM uservisits GROUP BY countryCode) q QUALIFY row_number() OVER (ORDER BY countryCode) > 3 ORDER BY n, countryCode LIMIT 2", true],
  ["join, filter keeps nothing (partitioned)", "SELECT uv.countryCode, sum(r.pageRank) FROM uservisits uv JOIN rankings r ON uv.destURL = r.pageURL WHERE uv.duration > 100 GROUP BY 1", false, { join: "partitioned" }, /partitioned join/],
];
