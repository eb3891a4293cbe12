/** `smelter/storage`: stores by URL, local and memory stores, ranged and hedged reads. The S3 adapter and the embedded server are in `smelter/s3` (they load the AWS SDK and s3rver). */
export type * from "./contract.js";
export { defineStore, readAll } from "./store.js";
export * from "./errors.js";
export { openStore, parseStoreUrl, type OpenStoreOptions, type OpenedStore, type ParsedStoreUrl } from "./url.js";
export { localStore, type LocalStoreOptions } from "./local.js";
export { memoryStore, clearMemoryStore, type MemoryStoreOptions } from "./memory.js";
export { RangedReader, type RangedReaderOptions, type RangedReadStats } from "./ranged.js";
export { LatencyModel } from "./latency-model.js";
