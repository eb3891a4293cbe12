/**
 * The S3 store's socket reader (storage/s3-socket-get.ts, socket-http-get.ts): GETs of plain-http
 * path-style endpoints read over raw sockets into the returned buffer. Against the embedded
 * server (s3rver) and the complete one (versitygw), through a TCP tap that counts connections and
 * keeps the requests' heads (the SDK's requests carry `amz-sdk-invocation-id`; the socket reader's
 * do not): whole objects and ranges byte for byte, a missing key, wrong credentials, a 416, an
 * If-Match mismatch, keep-alive reuse across GETs, a body cut midway and resumed (the fault
 * proxy), an abort mid-body that leaves no connection open; the call timeout on a silent server;
 * a chunked answer read through the SDK instead.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store, type S3StoreOptions } from "../../src/storage/s3.js";
import { socketGetEndpoint } from "../../src/storage/s3-socket-get.js";
import { startS3Server } from "../../src/storage/server.js";
import { etagVersion } from "../../src/storage/versions.js";
import { startCompleteS3Server } from "../helpers/s3-complete.js";
import { startFaultProxy, type FaultProxy } from "../tooling/fault-proxy.js";
import { listenOnLoopback } from "../tooling/listen.js";
import { startSilentServer } from "../tooling/silent-server.js";

/** A TCP proxy on loopback: counts connections (open now and in all) and keeps what clients sent (bounded). */
async function startTap(target: string) {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  let sent = "";
  const server = createServer((client) => {
    accepted++;
    sockets.add(client);
    const up = connect({ host: t.hostname, port: Number(t.port) });
    sockets.add(up);
    client.on("data", (d: Buffer) => {
      if (sent.length < 1_000_000) sent += d.toString("latin1", 0, Math.min(d.length, 4096));
      up.write(d);
    });
    up.pipe(client);
    const drop = (): void => {
      client.destroy();
      up.destroy();
    };
    client.on("close", () => {
      sockets.delete(client);
      drop();
    });
    up.on("close", () => {
      sockets.delete(up);
      drop();
    });
    client.on("error", drop);
    up.on("error", drop);
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    /** Client connections open now. */
    get open() {
      return [...sockets].filter((s) => s.remotePort !== Number(t.port)).length;
    },
    /** The GET request heads clients sent. */
    gets: () => sent.split("\r\n\r\n").filter((h) => h.includes("GET /")),
    reset() {
      sent = "";
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits (bounded) until `ok()`; the bound only guards against a hang, it measures nothing. */
async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

// versitygw answers every GetObject with `Connection: close` (so does the SDK's connection then): one connection per GET.
const servers = [
  { name: "s3rver", keepAlive: true, start: async () => {
      const s = await startS3Server({ buckets: ["sock"] });
      return { endpoint: s.endpoint, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }, stop: () => s.stop() };
    } },
  { name: "versitygw", keepAlive: false, start: async () => {
      const s = await startCompleteS3Server({ buckets: ["sock"] });
      return { endpoint: s.endpoint, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }, stop: () => s.stop() };
    } },
];

test("the socket reader serves plain-http path-style endpoints only", () => {
  assert.equal(socketGetEndpoint("http://127.0.0.1:9000", true)?.port, "9000");
  assert.equal(socketGetEndpoint("https://s3.example.com", true), undefined, "https: the SDK");
  assert.equal(socketGetEndpoint("http://127.0.0.1:9000", false), undefined, "virtual-hosted: the SDK");
  assert.equal(socketGetEndpoint("http://127.0.0.1:9000/base", true), undefined, "a path prefix: the SDK");
  assert.equal(socketGetEndpoint(undefined, false), undefined, "AWS itself: the SDK");
  assert.equal(socketGetEndpoint("http://127.0.0.1:9000", true, { SMELTER_S3_SOCKET_GET: "0" }), undefined, "turned off");
});

for (const server of servers) {
  describe(`socket GETs against ${server.name}`, () => {
    let s: Awaited<ReturnType<(typeof servers)[number]["start"]>>;
    let tap: Awaited<ReturnType<typeof startTap>>;
    let direct: ReturnType<typeof s3Store>;
    const data = randomBytes(3 * 1024 * 1024 + 11);
    const make = (over: Partial<S3StoreOptions> = {}) => s3Store({ bucket: "sock", endpoint: tap.endpoint, credentials: s.credentials, ...over });
    before(async () => {
      s = await server.start();
      tap = await startTap(s.endpoint);
      direct = s3Store({ bucket: "sock", endpoint: s.endpoint, credentials: s.credentials });
      await direct.put("big", data);
      await direct.put("dir/with space+plus&eq=.bin", data.subarray(0, 1000));
      await direct.put("empty", new Uint8Array(0));
    });
    after(async () => {
      await direct?.close();
      await tap?.stop();
      await s?.stop();
    });

    test(`whole objects and ranges, byte for byte, ${server.keepAlive ? "over one kept-alive connection" : "a connection per GET as the server asks"}, without the SDK`, async () => {
      const store = make();
      try {
        const before = tap.accepted;
        tap.reset();
        assert.ok(Buffer.from(await store.get("big")).equals(data), "whole");
        for (const [start, end] of [[0, 1], [5, 70_000], [1_000_000, data.length], [data.length - 3, data.length + 100]] as const)
          assert.ok(Buffer.from(await store.get("big", { range: { start, end } })).equals(data.subarray(start, end)), `range ${start}-${end}`);
        assert.ok(Buffer.from(await store.get("big", { range: { start: 2_000_000 } })).equals(data.subarray(2_000_000)), "open-ended range");
        assert.ok(Buffer.from(await store.get("dir/with space+plus&eq=.bin")).equals(data.subarray(0, 1000)), "a key that needs encoding");
        assert.equal((await store.get("empty")).byteLength, 0);
        assert.equal(tap.accepted - before, server.keepAlive ? 1 : 8, server.keepAlive ? "every GET went over the same kept-alive connection" : "Connection: close is obeyed");
        if (!server.keepAlive) await until(() => tap.open === 0, "connections the server closes are not kept");
        const gets = tap.gets();
        assert.equal(gets.length, 8);
        for (const h of gets) assert.doesNotMatch(h, /amz-sdk-invocation-id/i, "not sent by the SDK");
        const reader = new RangedReader(store, { partSize: 256 * 1024, concurrency: 4 });
        assert.ok(Buffer.from(await reader.read("big")).equals(data), "the ranged reader, hedging on");
      } finally {
        await store.close();
      }
      await until(() => tap.open === 0, "close() closes the idle connections");
    });

    test("a missing key, wrong credentials, a 416, an If-Match mismatch: the store's errors", async () => {
      const store = make();
      const wrong = make({ credentials: { accessKeyId: s.credentials.accessKeyId, secretAccessKey: "not-the-secret" } });
      try {
        tap.reset();
        await assert.rejects(store.get("nope"), (e: Error & { type?: string; nonRetryable?: boolean }) => e.type === "NotFound" && e.nonRetryable === true && /"nope" not found/.test(e.message));
        await assert.rejects(wrong.get("big"), (e: Error & { type?: string }) => {
          assert.equal(e.type, "AccessDenied");
          assert.match(e.message, /^\[smelter\] \[s3\] GetObject "big" .* was refused \((SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)/);
          return true;
        });
        assert.equal((await store.get("big", { range: { start: data.length + 5 } })).byteLength, 0, "past the end: no bytes");
        const version = etagVersion((await store.head("big"))?.etag);
        assert.ok(version);
        assert.equal((await store.get("big", { range: { start: 0, end: 10 }, version })).byteLength, 10, "the listed version reads");
        await assert.rejects(store.get("big", { range: { start: 0, end: 10 }, version: "0123456789abcdef0123456789abcdef" }), (e: Error & { type?: string }) => e.type === "InputChanged" && /changed during the job/.test(e.message));
        assert.ok(tap.gets().every((h) => !/amz-sdk-invocation-id/i.test(h)), "all through the socket reader");
      } finally {
        await store.close();
        await wrong.close();
      }
    });

    test("an abort mid-body leaves no connection open", async () => {
      // The fault proxy cuts every body in half and holds the connection silent: a body that stops midway.
      const proxy = await startFaultProxy({ target: s.endpoint, seed: 7, rates: { stallBody: 1 } });
      const probe = await startTap(proxy.endpoint);
      const store = s3Store({ bucket: "sock", endpoint: probe.endpoint, credentials: s.credentials, timeouts: { stallMs: 60_000, firstByteMs: 60_000 } });
      try {
        const ac = new AbortController();
        const read = store.get("big", { signal: ac.signal, onFirstByte: () => setImmediate(() => ac.abort()) });
        await assert.rejects(read, (e: Error) => e.name === "AbortError");
        await until(() => probe.open === 0, "the aborted GET's connection is closed");
        assert.equal(proxy.stats.faults.stallBody, 1);
      } finally {
        await store.close();
        await probe.stop();
        await proxy.stop();
      }
    });
  });
}

describe("socket GETs: faults and odd servers", () => {
  let s: Awaited<ReturnType<typeof startCompleteS3Server>>;
  let proxy: FaultProxy;
  before(async () => {
    s = await startCompleteS3Server({ buckets: ["sock"] });
    proxy = await startFaultProxy({ target: s.endpoint, seed: 3 });
  });
  after(async () => {
    await proxy?.stop();
    await s?.stop();
  });

  test("bodies cut midway are resumed from the byte reached, byte for byte", async () => {
    const credentials = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
    const setup = s3Store({ bucket: "sock", endpoint: s.endpoint, credentials });
    const objects = [0, 1, 2, 3].map((i) => randomBytes(512 * 1024 + i));
    for (const [i, d] of objects.entries()) await setup.put(`cut-${i}`, d);
    await setup.close();
    proxy.setRates({ truncate: 0.5 });
    const store = s3Store({ bucket: "sock", endpoint: proxy.endpoint, credentials, maxAttempts: 10, timeouts: { stallMs: 5000 } });
    try {
      const cutBefore = proxy.stats.faults.truncate;
      for (const [i, d] of objects.entries()) {
        assert.ok(Buffer.from(await store.get(`cut-${i}`)).equals(d), `whole ${i}`);
        assert.ok(Buffer.from(await store.get(`cut-${i}`, { range: { start: 100, end: d.length - 100 } })).equals(d.subarray(100, d.length - 100)), `range ${i}`);
      }
      assert.ok(proxy.stats.faults.truncate - cutBefore >= 2, `bodies were cut: ${proxy.stats.faults.truncate - cutBefore}`);
    } finally {
      proxy.setRates({});
      await store.close();
    }
  });

  test("the call timeout bounds a GET on a silent server", async () => {
    const silent = await startSilentServer();
    const store = s3Store({ bucket: "quiet", endpoint: silent.endpoint, credentials: { accessKeyId: "k", secretAccessKey: "s" }, timeouts: { firstByteMs: 60_000, callMs: 300 } });
    try {
      await assert.rejects(store.get("a"), /did not finish within 300 ms, retries included: .*SMELTER_S3_CALL_TIMEOUT_MS/);
      assert.equal(silent.connections, 1);
    } finally {
      await store.close();
      await silent.stop();
    }
  });

  test("a chunked answer is refused by the socket reader and read through the SDK", async () => {
    const body = Buffer.from("chunked bytes, read by the SDK");
    const seen: string[] = [];
    const http = createHttpServer((req, res) => {
      seen.push(String(req.headers["amz-sdk-invocation-id"] ? "sdk" : "socket"));
      res.writeHead(200, { etag: '"abc"', "content-type": "application/octet-stream" });
      res.write(body.subarray(0, 5));
      res.end(body.subarray(5));
    });
    const port = await listenOnLoopback(http);
    const store = s3Store({ bucket: "odd", endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: "k", secretAccessKey: "s" } });
    try {
      assert.ok(Buffer.from(await store.get("x")).equals(body));
      assert.ok(Buffer.from(await store.get("x")).equals(body));
      assert.deepEqual(seen, ["socket", "sdk", "sdk"], "refused once, then the SDK for this store");
    } finally {
      await store.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
