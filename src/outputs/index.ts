/** Outputs: one object assembled in parallel from many tasks' partitions (docs/parallel-upload.md). */
export { beginParallelUpload, completeParallelUpload, abortParallelUpload } from "./parallel-upload.js";
export type { BeginParallelUploadOptions, CompleteOptions, ParallelUploadSummary, AbortReport } from "./parallel-upload.js";
export { parallelUploadJob, type ParallelUploadJobOptions, type ParallelUploadJobResult } from "./parallel-upload-job.js";
export { uploadPartition, uploadPartitionTask, openTaskStore, partitionTaskInputSchema, type PartitionTaskInput, type UploadContext } from "./upload-partition.js";
export { MAX_PARTITIONS, MAX_PARTITION_BYTES, DEFAULT_PART_SIZE, type ParallelUploadHandle, type PartitionResult, type PartitionPart } from "./upload-protocol.js";
