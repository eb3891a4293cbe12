/** Splits: streaming discovery of inputs, record-aligned range reads, Parquet row groups, packing into tasks. */
export * from "./split.js";
export * from "./discover.js";
export * from "./csv-range.js";
export * from "./parquet.js";
export * from "./pack.js";
export { BoundedQueue } from "./queue.js";
export { parseKeyPattern, globToRegExp } from "./glob.js";
export type { KeyPattern } from "./glob.js";
