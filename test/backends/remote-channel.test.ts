/**
 * Logs and liveness from far away (src/backends/remote/channel*.ts): real processes running the
 * container entry send heartbeats and log lines over the manager's HTTP channel, or as batches in
 * the work store (the embedded S3 server) when they cannot reach it; the scheduler's heartbeat
 * timeout works the same on both; the server refuses a wrong token.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openRemoteChannel, type ChannelTransport, type RemoteChannel } from "../../src/backends/remote/channel.js";
import { encodeMessages } from "../../src/backends/remote/channel-messages.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { systemContext } from "../../src/job/runtime-context.js";
import { remoteStore } from "../../src/remote-task.js";
import { Manager } from "../../src/scheduler/manager.js";
import { openStore } from "../../src/storage/url.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { launch, runBackendConformance, within } from "./conformance.js";
import { remoteProcessBackend } from "./remote-process.js";

const workers = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
const s3: S3Server = await startS3Server({ buckets: ["smelter"] });
Object.assign(process.env, s3.env);
const PREFIX = "channel-test/";
const store = remoteStore(`s3://smelter/${PREFIX}`);
const channels: RemoteChannel[] = [];
after(async () => {
  await Promise.all(channels.map((c) => c.close()));
  await s3.stop();
});

async function channelOf(transport: ChannelTransport, extra: { advertiseUrl?: string } = {}): Promise<RemoteChannel> {
  const c = await openRemoteChannel({ context: systemContext(), store, transport, pollMs: 100, flushMs: 100, ...extra });
  channels.push(c);
  return c;
}
const backendOn = (channel: RemoteChannel) => remoteProcessBackend({ store, workerModule: workers, env: s3.env, channel });

async function leftovers(): Promise<string[]> {
  const { store: root } = await openStore("s3://smelter/");
  const keys: string[] = [];
  for await (const o of root.list(PREFIX)) keys.push(o.key);
  return keys;
}

const caps = {
  crash: true,
  killHung: true,
  stdio: "a container's stdout and stderr go to its own logs, not back to the manager (ctx.log lines do)",
  warm: "one process per attempt",
} as const;
const httpChannel = await channelOf("http");
const storeChannel = await channelOf("store");
runBackendConformance("remote-process with the HTTP channel", () => remoteProcessBackend({ store, workerModule: workers, env: s3.env, channel: httpChannel, maxConcurrency: 1 }), caps);
runBackendConformance("remote-process with the store channel", () => remoteProcessBackend({ store, workerModule: workers, env: s3.env, channel: storeChannel, maxConcurrency: 1 }), caps);

for (const transport of ["http", "store"] as const) {
  describe(`the ${transport} channel`, () => {
    it("delivers heartbeats and log lines while the worker still runs", async () => {
      const channel = transport === "http" ? httpChannel : storeChannel;
      const r = launch(backendOn(channel), "heartbeats", { count: 6, gapMs: 1000 }); // 6 s: a busy machine still delivers the first beat before the end
      let settled = false;
      void r.outcome.then(() => (settled = true));
      const live = await within(
        new Promise<boolean>((resolve) => {
          const check = setInterval(() => {
            if (r.events.some((e) => e.kind === "heartbeat")) resolve(!settled), clearInterval(check);
          }, 20);
        }),
        15_000,
        "a first heartbeat",
      );
      assert.equal(live, true, "a heartbeat arrived before the attempt ended");
      const o = await r.outcome;
      assert.equal(o.status, "succeeded");
      assert.deepEqual(r.events.flatMap((e) => (e.kind === "heartbeat" ? [e.details] : [])), [0, 1, 2, 3, 4, 5].map((i) => ({ i })), "each heartbeat once, in order");
      assert.deepEqual(await leftovers(), [], "channel batches, envelope and reply are deleted");
    });

    it("a silent worker is lost by the heartbeat timeout; a beating one is not", async () => {
      const channel = transport === "http" ? httpChannel : storeChannel;
      const manager = new Manager({ backend: backendOn(channel) });
      const events: SmelterEvent[] = [];
      try {
        const policy = { retry: { maxAttempts: 1 }, timeouts: { heartbeatTimeout: 4000 } };
        const beatingJob = manager.job();
        const silentJob = manager.job();
        silentJob.events.on((e) => events.push(e));
        const beating = beatingJob.stage({ worker: "heartbeats", policy });
        beating.push({ count: 16, gapMs: 400 }); // 6.4 s, longer than the timeout (which also covers the process's start)
        beating.close();
        const silent = silentJob.stage({ worker: "hang", policy });
        silent.push(null);
        silent.close();
        const [beatingDone, silentDone] = await Promise.allSettled([within(beatingJob.wait(), 30_000, "the beating job"), within(silentJob.wait(), 30_000, "the silent job")]);
        assert.equal(beatingDone.status, "fulfilled", `the beating attempt succeeded: ${String((beatingDone as PromiseRejectedResult).reason)}`);
        assert.equal(silentDone.status, "rejected");
        const failed = events.filter((e): e is Extract<SmelterEvent, { type: "attempt-failed" }> => e.type === "attempt-failed");
        assert.equal(failed.length, 1, JSON.stringify(failed.map((f) => f.error.message)));
        assert.equal(failed[0]!.error.type, "AttemptLost", failed[0]!.error.message);
        assert.match(failed[0]!.error.message, /sent no heartbeat or log for [\d.]+ ms \(heartbeatTimeout 4000 ms\)/);
      } finally {
        await manager.close();
      }
    });
  });
}

describe("the channel server", () => {
  it("refuses a wrong or missing token (401) and an attempt it does not watch (404)", async () => {
    const channel = await channelOf("http");
    const got: unknown[] = [];
    const watch = channel.watch("j1-s01-t00000-a1", "s3://smelter/channel-test/j1/results/j1-s01-t00000-a1.json", { onLog: (_s, m) => got.push(m), onHeartbeat: (d) => got.push(d) });
    const post = (attempt: string, token?: string) =>
      fetch(`${channel.url}/attempts/${attempt}/events`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {}, body: encodeMessages([{ t: "log", stream: "log", message: "hello" }]) });
    assert.match(channel.url!, /^http:\/\/127\.0\.0\.1:\d+$/, "bound to loopback by default");
    assert.equal((await post("j1-s01-t00000-a1")).status, 401);
    assert.equal((await post("j1-s01-t00000-a1", "0".repeat(32))).status, 401);
    assert.deepEqual(got, [], "nothing from a refused request reaches the listener");
    const token = watch.env.SMELTER_CHANNEL_TOKEN!;
    assert.match(token, /^[0-9a-f]{32}$/);
    assert.equal((await post("j9-s01-t00000-a1", token)).status, 404);
    assert.equal((await post("j1-s01-t00000-a1", token)).status, 204);
    assert.deepEqual(got, ["hello"]);
    await watch.stop();
    assert.equal((await post("j1-s01-t00000-a1", token)).status, 404, "a stopped (given up) attempt's messages are not taken");
  });

  it("auto: a worker that cannot reach the server falls back to the store, and every line still arrives once", async () => {
    const channel = await channelOf("auto", { advertiseUrl: "http://127.0.0.1:9" }); // nothing listens on port 9
    const backend = backendOn(channel);
    const r = launch(backend, "logs", null);
    const o = await r.outcome;
    assert.equal(o.status, "succeeded");
    assert.deepEqual(r.events.flatMap((e) => (e.kind === "log" ? [e.message] : [])), ["first 1", "second 2 { x: 1 }", "third"]);
    assert.match(backend.lastStderr(), /cannot reach the manager's channel at http:\/\/127\.0\.0\.1:9 .*sending heartbeats and logs to the work store instead/);
    assert.deepEqual(await leftovers(), []);
  });
});
