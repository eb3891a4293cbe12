/**
 * `--dataset`: rows or bytes of uservisits. `126.8GB`, `500MiB` are bytes (a unit ending in B);
 * `775M`, `10k`, `2000000` are rows (x ~164 bytes a row, the benchmark's); `5nodes` and `1node`
 * name the Big Data Benchmark's sets.
 */
import { ConfigError } from "../job/errors.js";
import { PRESETS } from "./shapes.js";

const BYTES_PER_ROW = PRESETS.uservisits!.bytesPerRow;

const NAMED: Record<string, number> = { "5nodes": 126.8e9, "1node": 25.4e9 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
const ROW_UNITS: Record<string, number> = { "": 1, k: 1e3, m: 1e6 };

/** Bytes of the dataset; throws a ConfigError naming the accepted forms. */
export function parseDataset(text: string): { bytes: number; rows: number } {
  const t = text.trim().toLowerCase();
  const named = NAMED[t];
  if (named !== undefined) return { bytes: named, rows: named / BYTES_PER_ROW };
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
  const unit = m?.[2] ?? "";
  const n = Number(m?.[1]);
  if (m && Number.isFinite(n) && n > 0) {
    if (unit.endsWith("b") && BYTE_UNITS[unit] !== undefined) {
      const bytes = n * BYTE_UNITS[unit]!;
      return { bytes, rows: bytes / BYTES_PER_ROW };
    }
    const rowUnit = ROW_UNITS[unit];
    if (rowUnit !== undefined) {
      const rows = n * rowUnit;
      return { bytes: rows * BYTES_PER_ROW, rows };
    }
  }
  throw new ConfigError(`--dataset "${text}" is neither rows nor bytes: give rows (775M, 10k, 2000000), bytes with a unit (126.8GB, 500MiB), or 5nodes / 1node`);
}
