/** `smelter/mapreduce`: map-reduce with a shuffle through object storage, splits, Query 2. */
export { runMapReduce, derivePartitions, type MapReduceSpec, type MapReduceRun, type MapTaskInput, type ReduceTaskInput, type StageSpec } from "./run.js";
export * from "./aggregate.js";
export { runQuery2, query2Spec, gather, USERVISITS_COLUMNS, type Query2Options, type Query2Result } from "./query2.js";
export { materializeSplits, type LocalFile } from "./materialize.js";
export { mapTaskInputs, wholeParquetFiles } from "./inputs.js";
export * from "../shuffle/index.js";
export * from "../splits/index.js";
export { defineMapReduce, hashText, functionRunOptionsSchema, type MapReduceFunctions, type MapReduceJob, type FunctionRun, type FunctionRunOptions, type Emit } from "./functions.js";
export { readRecords, recordFormatSchema, type RecordFormat } from "./records.js";
