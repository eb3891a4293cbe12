/**
 * The jobs of bench/functions.ts, in their own module: it is the workers' entry, so it must not
 * run the benchmark when a worker imports it.
 */
import { defineMapReduce } from "../src/mapreduce/functions.js";

// A pool worker is stopped with SIGTERM, which would end it before `--cpu-prof` writes its
// profile (bench functions --worker-cpu-prof): exit normally instead.
if (process.execArgv.includes("--cpu-prof")) process.once("SIGTERM", () => process.exit(0));

/** Query 2 written as plain functions over the headerless uservisits CSV lines. */
function query2Functions(prefixLen: number) {
  return defineMapReduce<string, string, number, [string, number]>({
    name: `bench.fn.query2.${prefixLen}`,
    records: "lines",
    map: (line, emit) => {
      if (line === "") return;
      const c1 = line.indexOf(",");
      const c2 = line.indexOf(",", c1 + 1);
      const c3 = line.indexOf(",", c2 + 1);
      const c4 = line.indexOf(",", c3 + 1);
      // adRevenue is a FLOAT column: round to float32 as DuckDB does before summing in double.
      emit(line.slice(0, Math.min(prefixLen, c1)), Math.fround(Number(line.slice(c3 + 1, c4))));
    },
    combine: (_p, sums) => sums.reduce((a, b) => a + b, 0),
    reduce: (prefix, sums) => [prefix, sums.reduce((a, b) => a + b, 0)],
  });
}

export const JOBS = { 8: query2Functions(8), 10: query2Functions(10), 12: query2Functions(12) } as const;
