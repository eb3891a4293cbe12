/**
 * How shuffle segments are written by `smelter.sql.stage` (every SQL stage and Query 2). No
 * dictionary: partial aggregates hold nearly one row per key, so DuckDB's dictionary attempt (and
 * its bloom filter) is wasted work (2A: 30% of the partitioned COPY's CPU). Uncompressed when the
 * store is a local directory (nothing crosses a network; snappy cost another 15%), snappy otherwise.
 */
import type { ObjectStore } from "../storage/contract.js";
export function segmentFormat(store: Pick<ObjectStore, "localPath">): string {
  return `FORMAT parquet, DICTIONARY_SIZE_LIMIT 0, COMPRESSION ${store.localPath ? "uncompressed" : "snappy"}`;
}
