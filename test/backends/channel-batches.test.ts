/**
 * Store-channel batches are whole or not read (src/backends/remote/channel-messages.ts,
 * channel.ts): s3rver's PUT writes the object in place, so a poll during it reads a short file.
 * A batch ends with a line counting its messages; a batch without it is read again at the next
 * poll, so no heartbeat or log line is lost or delivered twice.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { decodeBatch, encodeBatch, type ChannelMessage } from "../../src/backends/remote/channel-messages.js";
import { openRemoteChannel } from "../../src/backends/remote/channel.js";
import { channelBatchUrl, channelPrefixFor } from "../../src/backends/remote/keys.js";
import { systemContext } from "../../src/job/runtime-context.js";
import { remoteStore } from "../../src/url-objects.js";

const messages: ChannelMessage[] = [
  { t: "hb", details: { i: 0 } },
  { t: "log", stream: "log", message: "a line with a comma, and \"quotes\"" },
  { t: "hb", details: { i: 1 } },
];

describe("store-channel batches", () => {
  it("decode whole, and are not whole when cut anywhere before their end line", () => {
    const text = encodeBatch(messages);
    assert.deepEqual(decodeBatch(text), messages);
    assert.deepEqual(decodeBatch(text.trimEnd()), messages);
    for (let cut = 0; cut < text.trimEnd().length; cut++) assert.equal(decodeBatch(text.slice(0, cut)), undefined, `cut at ${cut}: ${JSON.stringify(text.slice(0, cut))}`);
    assert.deepEqual(decodeBatch(encodeBatch([])), []);
    assert.throws(() => decodeBatch(`${JSON.stringify(messages[0])}\n{"t":"end","n":2}\n`), /holds 1 messages where its end line says 2/);
    assert.throws(() => decodeBatch(`not json\n{"t":"end","n":1}\n`), /line 1 is not JSON/);
  });

  it("a batch read while it is being written is read again, and its messages arrive once, in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-channel-batches-"));
    const store = remoteStore(pathToFileURL(dir).href);
    const channel = await openRemoteChannel({ context: systemContext(), store, transport: "store", pollMs: 50, flushMs: 50 });
    try {
      const got: unknown[] = [];
      const resultUrl = `${store.url}job/results/att-1.json`;
      const watch = channel.watch("att-1", resultUrl, { onHeartbeat: (d) => got.push(d), onLog: (_s, m) => got.push(m) });
      const url = channelBatchUrl(channelPrefixFor(resultUrl, "att-1"), 0);
      const whole = encodeBatch(messages);
      await store.write(url, whole.slice(0, whole.indexOf("\n") + 5)); // as a reader sees s3rver's PUT midway
      await new Promise((r) => setTimeout(r, 300)); // several polls read the short batch
      assert.deepEqual(got, [], "nothing delivered from a short batch");
      await store.write(url, whole);
      await store.write(channelBatchUrl(channelPrefixFor(resultUrl, "att-1"), 1), encodeBatch([{ t: "hb", details: { i: 2 } }]));
      await watch.stop();
      assert.deepEqual(got, [{ i: 0 }, messages[1]!.t === "log" ? messages[1]!.message : "", { i: 1 }, { i: 2 }]);
    } finally {
      await channel.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
