/** `smelter/mapreduce`: map-reduce with a shuffle through object storage, splits (Query 2 and SQL: `smelter/query`). */
export { derivePartitions, mergeOnCoordinator, REDUCER_BYTES } from "../shuffle/sizing.js";
export { runMapReduce, type MapReduceSpec, type MapReduceRun, type MapTaskInput, type ReduceTaskInput, type StageSpec } from "./run.js";
export * from "./table-source.js";
export { materializeSplits, type LocalFile } from "./materialize.js";
export { mapTaskInputs } from "./inputs.js";
export { wholeParquetFiles, listInput, type InputListing } from "../splits/listing.js";
export * from "../shuffle/index.js";
export * from "../splits/index.js";
export { defineMapReduce, hashText, functionRunOptionsSchema, type MapReduceFunctions, type MapReduceJob, type FunctionRun, type FunctionRunOptions, type Emit } from "./functions.js";
export { readRecords, recordFormatSchema, type RecordFormat } from "./records.js";
