/** `smelter/s3`: the S3 store (AWS SDK v3) and the embedded S3-compatible server (s3rver). */
export { s3Store, type S3StoreOptions } from "./storage/s3.js";
export { startS3Server, type S3Server, type S3ServerOptions } from "./storage/server.js";
