/**
 * Every HTTP endpoint Smelter opens binds loopback by default and needs a per-job (per-run)
 * secret: the `--ui` live page (a random token in its URL: none, a wrong one, or one of the same
 * length are refused with 403) and the embedded S3 server (`smelter s3 serve`: a new random key
 * pair per run; requests signed with another pair, or s3rver's public S3RVER keys, are refused).
 * Where the machine has a non-loopback address, neither answers on it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { createBackend } from "../../src/backends/index.js";
import { startLiveUi } from "../../src/cli/live-ui.js";
import { Manager } from "../../src/scheduler/manager.js";
import { s3Store } from "../../src/storage/s3.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

/** This machine's first non-loopback IPv4 address, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("HTTP endpoints: loopback and a per-run secret", () => {
  test("--ui: 127.0.0.1, and only the printed token gets an answer", async () => {
    const manager = new Manager({ backend: createBackend("inline", {}) });
    const job = manager.job({});
    const ui = await startLiveUi(job, { backend: "inline" });
    try {
      const url = new URL(ui.url);
      assert.equal(url.hostname, "127.0.0.1");
      const token = url.searchParams.get("token") ?? "";
      assert.match(token, /^[0-9a-f]{32}$/, "a 128-bit random token");
      const at = (path: string) => fetch(new URL(path, url.origin)).then(async (r) => ({ status: r.status, body: await r.text() }));
      assert.equal((await at("/")).status, 403, "no token");
      assert.equal((await at("/state")).status, 403, "no token");
      assert.equal((await at(`/?token=${"0".repeat(32)}`)).status, 403, "a wrong token of the same length");
      assert.equal((await at(`/?token=${token}x`)).status, 403, "a longer token");
      const ok = await at(`/state?token=${token}`);
      assert.equal(ok.status, 200);
      const other = await startLiveUi(manager.job({}), { backend: "inline" });
      assert.notEqual(new URL(other.url).searchParams.get("token"), token, "each job has its own token");
      assert.equal((await fetch(`${new URL(other.url).origin}/?token=${token}`)).status, 403, "one job's token does not open another's page");
      await other.stop(0);
      if (externalAddress) assert.equal(await accepts(externalAddress, Number(url.port)), false, `not reachable on ${externalAddress}`);
    } finally {
      await ui.stop(0);
      await manager.close();
    }
  });

  describe("smelter s3 serve", () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-sec-serve-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** Starts `smelter s3 serve --port 0`, reads its export lines, runs `check`, then stops it with SIGINT. */
    async function withServe(check: (env: Record<string, string>) => Promise<void>): Promise<Record<string, string>> {
      const child = spawn(process.execPath, [bin, "s3", "serve", "--port", "0", "--dir", join(dir, "data"), "--bucket", "sec"], { stdio: ["ignore", "pipe", "pipe"] });
      const exited = once(child, "exit");
      try {
        const env: Record<string, string> = {};
        for await (const line of createInterface({ input: child.stdout })) {
          const m = /^export (\w+)=(.*)$/.exec(line);
          if (m) env[m[1]!] = m[2]!;
          if (env.AWS_REGION) break;
        }
        await check(env);
        return env;
      } finally {
        child.kill("SIGINT");
        await exited;
      }
    }

    test("binds 127.0.0.1, and a new random key pair each run: other keys are refused", async () => {
      const runs: Record<string, string>[] = [];
      for (let i = 0; i < 2; i++) {
        runs.push(
          await withServe(async (env) => {
            const endpoint = new URL(env.AWS_ENDPOINT_URL_S3 ?? "");
            assert.equal(endpoint.hostname, "127.0.0.1");
            assert.match(env.AWS_ACCESS_KEY_ID ?? "", /^SMELTER[0-9A-F]{16}$/);
            assert.ok((env.AWS_SECRET_ACCESS_KEY ?? "").length >= 32);
            const store = (accessKeyId: string, secretAccessKey: string) => s3Store({ bucket: "sec", endpoint: endpoint.origin, region: "us-east-1", credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
            await store(env.AWS_ACCESS_KEY_ID!, env.AWS_SECRET_ACCESS_KEY!).put("k", new TextEncoder().encode("v"));
            await assert.rejects(store("S3RVER", "S3RVER").get("k"), /InvalidAccessKeyId/, "s3rver's public keys are refused");
            await assert.rejects(store(env.AWS_ACCESS_KEY_ID!, "not-the-secret").get("k"), /SignatureDoesNotMatch/);
            if (externalAddress) assert.equal(await accepts(externalAddress, Number(endpoint.port)), false, `not reachable on ${externalAddress}`);
          }),
        );
      }
      assert.notEqual(runs[0]!.AWS_ACCESS_KEY_ID, runs[1]!.AWS_ACCESS_KEY_ID);
      assert.notEqual(runs[0]!.AWS_SECRET_ACCESS_KEY, runs[1]!.AWS_SECRET_ACCESS_KEY);
    });
  });
});
