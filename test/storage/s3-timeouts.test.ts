/**
 * Nothing waits forever on S3: an endpoint that accepts connections and never answers fails every
 * store call, and `smelter sql` / `smelter query2` from the command line, within a bound (test-sized
 * timeouts through SMELTER_S3_*), with a message naming the endpoint, what it did not do and what to
 * change; no stack trace. A response that stalls mid-body is resumed and the bytes are exact.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { s3Store } from "../../src/storage/s3.js";
import { resolveS3Timeouts } from "../../src/storage/s3-timeouts.js";
import { startSilentServer, type SilentServer } from "../tooling/silent-server.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

describe("S3 timeouts", () => {
  let silent: SilentServer;
  before(async () => {
    silent = await startSilentServer();
  });
  after(async () => {
    await silent.stop();
  });

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_ENDPOINT_URL_S3: silent.endpoint,
    AWS_ACCESS_KEY_ID: "k",
    AWS_SECRET_ACCESS_KEY: "s",
    AWS_REGION: "us-east-1",
    SMELTER_S3_FIRST_BYTE_TIMEOUT_MS: "300",
    SMELTER_S3_STALL_TIMEOUT_MS: "300",
    SMELTER_S3_MAX_ATTEMPTS: "2",
  });

  test("a silent endpoint: every store call fails after maxAttempts first-byte timeouts, naming the endpoint and the setting", async () => {
    const store = s3Store({ bucket: "quiet", endpoint: silent.endpoint, credentials: { accessKeyId: "k", secretAccessKey: "s" }, timeouts: { firstByteMs: 200, stallMs: 200 }, maxAttempts: 3 });
    const before = silent.connections;
    for (const [what, call] of [
      ["get", () => store.get("a")],
      ["put", () => store.put("a", new Uint8Array(10))],
      ["head", () => store.head("a")],
      ["list", async () => {
        for await (const _ of store.list("")) break;
      }],
    ] as const) {
      await assert.rejects(call(), (e: Error & { type?: string }) => {
        assert.match(e.message, /^\[smelter\] \[s3\] the S3 endpoint http:\/\/127\.0\.0\.1:\d+ sent no response within 200 ms/, what);
        assert.match(e.message, /\(3 attempts\)/, what);
        assert.match(e.message, /SMELTER_S3_FIRST_BYTE_TIMEOUT_MS/, what);
        assert.equal(e.type, "StoreError");
        return true;
      });
    }
    assert.ok(silent.connections > before, "it did connect: the endpoint went silent, it was not refused");
    await store.close?.();
  });

  test("the call deadline bounds a call whatever the per-request timeouts", async () => {
    const store = s3Store({ bucket: "quiet", endpoint: silent.endpoint, credentials: { accessKeyId: "k", secretAccessKey: "s" }, timeouts: { firstByteMs: 60_000, callMs: 300 } });
    await assert.rejects(store.get("a"), /did not finish within 300 ms, retries included: .*SMELTER_S3_CALL_TIMEOUT_MS/);
    await store.close?.();
  });

  test("settings: code over environment over defaults; a bad value names its variable", () => {
    assert.deepEqual(resolveS3Timeouts({}, {}), { connectMs: 5000, firstByteMs: 30000, stallMs: 30000, callMs: 300000, maxAttempts: 5 });
    assert.equal(resolveS3Timeouts({}, { SMELTER_S3_STALL_TIMEOUT_MS: "1500" }).stallMs, 1500);
    assert.equal(resolveS3Timeouts({ stallMs: 10 }, { SMELTER_S3_STALL_TIMEOUT_MS: "1500" }).stallMs, 10);
    assert.throws(() => resolveS3Timeouts({}, { SMELTER_S3_MAX_ATTEMPTS: "lots" }), /SMELTER_S3_MAX_ATTEMPTS="lots" is not valid/);
  });

  for (const [command, args] of [
    ["sql", ["sql", "SELECT count(*) FROM t", "--table", "t=s3://quiet/t/"]],
    ["query2", ["query2", "--input", "s3://quiet/uv/"]],
  ] as const) {
    test(`smelter ${command} against a silent endpoint fails in seconds with a clear message, no stack trace`, () => {
      const r = spawnSync(process.execPath, [bin, ...args, "--backend", "threads", "--workers", "2"], { encoding: "utf8", env: env(), timeout: 60_000 });
      assert.equal(r.signal, null, `it ended by itself (the 60 s guard did not kill it): ${r.stderr}`);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /\[smelter\].*the S3 endpoint http:\/\/127\.0\.0\.1:\d+ sent no response within 300 ms/);
      assert.match(r.stderr, /check that the endpoint is right and the server is up/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    });
  }
});
