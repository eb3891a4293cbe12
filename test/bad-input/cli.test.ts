/**
 * The bad-input corpus through the CLI (cases.ts): every case ends with a clear error in
 * Smelter's words, or with its documented policy (`--bad-rows skip`, counted), never a hang or
 * a stack trace. One S3 server, one silent endpoint and one closed port serve every case.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLI_CASES } from "./cases.js";
import { buildFixtures } from "./fixtures.js";
import { checkCase, type CorpusContext } from "./harness.js";

describe("bad input through the CLI", { concurrency: 3 }, () => {
  let ctx: CorpusContext;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    const f = await buildFixtures();
    ctx = f.ctx;
    stop = f.stop;
  });
  after(async () => {
    await stop?.();
  });

  test("the corpus has at least 80 cases, each named once", () => {
    const names = CLI_CASES.map((c) => `${c.category}/${c.name}`);
    assert.equal(new Set(names).size, names.length);
    assert.ok(CLI_CASES.length >= 80, `${CLI_CASES.length} cases`);
  });

  for (const c of CLI_CASES)
    test(`${c.category}: ${c.name}`, (t) => {
      if (c.needsFullDisk && !ctx.full) return t.skip("no full disk: mounting a small tmpfs needs root");
      return checkCase(c, ctx);
    });
});
