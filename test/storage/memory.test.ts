import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { memoryStore } from "../../src/storage/memory.js";
import { runStoreConformance } from "./conformance.js";

runStoreConformance("memory", () => memoryStore(`conformance-${randomBytes(4).toString("hex")}`));

describe("memoryStore", () => {
  it("stores with the same name share objects within the process", async () => {
    const name = `shared-${randomBytes(4).toString("hex")}`;
    await memoryStore(name).put("k", new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await memoryStore(name).get("k"))], [1, 2, 3]);
    assert.equal(memoryStore(name).url, `memory://${name}`);
  });

  it("keeps its own copy of what was put", async () => {
    const s = memoryStore(`copy-${randomBytes(4).toString("hex")}`);
    const body = new Uint8Array([1, 2, 3]);
    await s.put("k", body);
    body[0] = 9;
    assert.equal((await s.get("k"))[0], 1);
  });

  it("rejects invalid options with a ConfigError", () => {
    assert.throws(() => memoryStore("x", { pageSize: 0 }), { type: "ConfigError" });
  });
});
