/**
 * The bad-input corpus through the CLI (cases.ts), part 3 of 3, what is asked: SQL and the flags of every command. Every case
 * ends with a clear error in Smelter's words, or with its documented policy (`--bad-rows skip`,
 * counted), never a hang or a stack trace. The corpus is cut in three files so each stays short.
 */
import { after, before, describe, test } from "node:test";
import { CLI_CASES } from "./cases.js";
import { buildFixtures } from "./fixtures.js";
import { checkCase, type CorpusContext } from "./harness.js";

const CATEGORIES = ["sql", "flags"];

describe("bad input through the CLI: what is asked: SQL and the flags of every command", { concurrency: 3 }, () => {
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
