/**
 * How shuffle segments are written by `smelter.sql.stage` (every SQL stage and Query 2). No
 * dictionary: partial aggregates hold nearly one row per key, so DuckDB's dictionary attempt (and
 * its bloom filter) is wasted work (2A: 30% of the partitioned COPY's CPU). Uncompressed when the
 * store is a local directory (nothing crosses a network; snappy cost another 15%), snappy otherwise.
 */
export function segmentFormat(storeUrl: string): string {
  return `FORMAT parquet, DICTIONARY_SIZE_LIMIT 0, COMPRESSION ${storeUrl.startsWith("file:") ? "uncompressed" : "snappy"}`;
}
