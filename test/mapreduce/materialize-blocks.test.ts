/**
 * materializeSplits over read-ahead blocks much smaller than the ranges (src/mapreduce/materialize.ts,
 * storage/ranged.ts readAhead): the temp files hold exactly the records each range owns, while the
 * blocks are read into kept buffers (the local store honours `into`) and reads cross block edges.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { materializeSplits } from "../../src/mapreduce/materialize.js";
import { csvDialectSchema } from "../../src/splits/dialect.js";
import type { Split } from "../../src/splits/split.js";
import { localStore } from "../../src/storage/local.js";
import { RangedReader } from "../../src/storage/ranged.js";

describe("materializeSplits with small read-ahead blocks", () => {
  it("a headered CSV cut at random points: every record once, in order, whatever the blocks and reads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "smelter-blocks-"));
    try {
      let seed = 11;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
      const header = "id,text\n";
      const lines: string[] = [];
      for (let i = 0, bytes = 0; bytes < 1.5 * 2 ** 20; i++) {
        const line = `${i},${"é".repeat(rand(40))}${"x".repeat(rand(400))}\n`;
        lines.push(line);
        bytes += Buffer.byteLength(line);
      }
      const object = Buffer.from(header + lines.join(""));
      const data = object.subarray(Buffer.byteLength(header));
      await writeFile(join(dir, "t.csv"), object);
      const store = localStore(dir);
      const dialect = csvDialectSchema.parse({ header: true });
      for (let round = 0; round < 6; round++) {
        const cuts = [0, ...Array.from({ length: 1 + rand(4) }, () => rand(object.length)).sort((a, b) => a - b), object.length];
        const splits: Split[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1]! > cuts[i]!) splits.push({ key: "t.csv", format: "csv", range: { start: cuts[i]!, end: cuts[i + 1]! }, fileSize: object.length });
        const blockSize = 32 * 1024 + rand(64 * 1024);
        const chunkSize = 4 * 1024 + rand(16 * 1024); // several reads a block, one in a few across its edge
        const reader = new RangedReader(store, { hedgeAfter: 0 });
        const out = join(dir, `out${round}`);
        await mkdir(out);
        const files = await materializeSplits(store, splits, out, { reader, dialect, readAhead: { blockSize, ahead: 2, chunkSize } });
        const got = Buffer.concat(await Promise.all(files.map((f) => readFile(f.path))));
        assert.equal(got.length, data.length, `round ${round}: cuts ${cuts.join(",")}, blocks ${blockSize}, reads ${chunkSize}`);
        assert.ok(got.equals(data), `round ${round}: the records differ`);
        for (const f of files) assert.deepEqual(f.names, ["id", "text"]);
        // Reads across block edges are copied, not fetched: about one GET per block, plus a header read and a tail or two per range.
        const blocks = splits.reduce((n, s) => n + Math.ceil((s.range.end - Math.max(0, s.range.start - 1)) / blockSize), 0);
        assert.ok(reader.stats.readRequests <= blocks + 5 * splits.length, `round ${round}: ${reader.stats.readRequests} GETs for ${blocks} blocks in ${splits.length} ranges`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
