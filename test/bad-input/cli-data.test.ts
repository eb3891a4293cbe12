/**
 * The bad-input corpus through the CLI (cases.ts), part 1 of 3, the data: CSV, Parquet, empty and huge inputs, a full disk. Every case
 * ends with a clear error in Smelter's words, or with its documented policy (`--bad-rows skip`,
 * counted), never a hang or a stack trace. The corpus is cut in three files so each stays short.
 */
import { after, before, describe, test } from "node:test";
import { CLI_CASES } from "./cases.js";
import { buildFixtures } from "./fixtures.js";
import { checkCase, type CorpusContext } from "./harness.js";

const CATEGORIES = ["csv", "parquet", "empty/huge", "full disk"];

describe("bad input through the CLI: the data: CSV, Parquet, empty and huge inputs, a full disk", { concurrency: 3 }, () => {
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

  for (const c of CLI_CASES.filter((c) => CATEGORIES.includes(c.category)))
    test(`${c.category}: ${c.name}`, (t) => {
      if (c.needsFullDisk && !ctx.full) return t.skip("no full disk: mounting a small tmpfs needs root");
      return checkCase(c, ctx);
    });
});
