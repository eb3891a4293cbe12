/**
 * `--dataset`: rows or bytes of uservisits. `126.8GB`, `500MiB` are bytes (a unit ending in B);
 * `775M`, `10k`, `2000000` are rows (x ~164 bytes a row, the benchmark's); `5nodes` and `1node`
 * name the Big Data Benchmark's sets. The same sizes as a `--table` spec's (shapes.ts).
 */
import { ConfigError } from "../job/errors.js";
import { PRESETS, sizeRows } from "./shapes.js";

/** Bytes and rows of the dataset; throws a ConfigError naming the accepted forms. */
export function parseDataset(text: string): { bytes: number; rows: number } {
  const uservisits = PRESETS.uservisits!;
  const rows = sizeRows(uservisits, text);
  if (rows === undefined) throw new ConfigError(`--dataset "${text}" is neither rows nor bytes: give rows (775M, 10k, 2000000), bytes with a unit (126.8GB, 500MiB), or 5nodes / 1node`);
  return { bytes: Math.round(rows * uservisits.bytesPerRow), rows };
}
