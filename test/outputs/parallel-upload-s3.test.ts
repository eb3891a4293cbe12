/**
 * Parallel upload of one object on S3 servers, tasks on the threads backend opening the store
 * from its URL with the endpoint and credentials in their environment:
 * - the complete server (versitygw: Content-MD5 checked, ListParts, ListMultipartUploads, abort);
 * - the embedded s3rver, mixed case only: it lacks abort, ListParts and ListMultipartUploads and
 *   does not check Content-MD5, so failure/cancel cleanup cannot be verified there.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { threadsBackend } from "../../src/backends/index.js";
import { beginParallelUpload, completeParallelUpload } from "../../src/outputs/parallel-upload.js";
import { uploadPartition } from "../../src/outputs/upload-partition.js";
import { Manager } from "../../src/scheduler/manager.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";
import { startServers } from "../helpers/test-servers.js";
import { assertNothingLeft, MiB } from "../helpers/upload.js";
import { runUploadScenarios, UPLOAD_ENTRY, type UploadEnv } from "./upload-scenarios.js";

interface Creds {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}
function envFor(server: Creds, bucket: string): UploadEnv {
  const taskEnv = { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: server.region, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey };
  return {
    store: s3Store({ bucket, endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, maxAttempts: 2 }),
    manager: new Manager({ backend: threadsBackend({ entry: UPLOAD_ENTRY, workers: 2, killGraceMs: 100, env: taskEnv }) }),
  };
}

let servers: { complete: CompleteS3Server; s3rver: S3Server; stopAll(): Promise<void> } | undefined;
let onComplete: UploadEnv;
let onS3rver: UploadEnv;
before(async () => {
  // Both or neither: a server that fails to start stops the other (a child left running would keep this file alive).
  servers = await startServers({ complete: () => startCompleteS3Server({ buckets: ["upload"] }), s3rver: () => startS3Server({ buckets: ["upload"] }) });
  onComplete = envFor(servers.complete, "upload");
  onS3rver = envFor(servers.s3rver, "upload");
});
after(async () => {
  await Promise.all([onComplete?.manager.close(), onS3rver?.manager.close()]);
  await servers?.stopAll();
});

runUploadScenarios("complete S3 server (versitygw)", () => onComplete);
runUploadScenarios("embedded s3rver", () => onS3rver, { only: ["mixed"], noListing: "s3rver has no AbortMultipartUpload, ListParts or ListMultipartUploads" });

describe("parallel upload: Content-MD5 on the complete S3 server", () => {
  it("a part corrupted on the way is rejected (BadDigest) and the upload can be aborted cleanly", async () => {
    const store = onComplete.store;
    const mp = store.multipart!;
    // The bytes change after their MD5 was computed, as a flipped bit on the wire would.
    const corrupting: ObjectStore = {
      ...store,
      multipart: { ...mp, uploadPart: (k, u, n, body, o) => mp.uploadPart(k, u, n, Uint8Array.from(body, (b, i) => (i === 7 ? b ^ 1 : b)), o) },
    };
    const h = await beginParallelUpload(store, "md5/out.bin", { partitions: 1 });
    await assert.rejects(uploadPartition(corrupting, h, 0, new Uint8Array(10 * MiB + 1).fill(3)), { type: "BadDigest" });
    await assert.rejects(completeParallelUpload(store, h, []), { type: "ValidationError" });
    await assertNothingLeft(store, h, true);
  });
});
