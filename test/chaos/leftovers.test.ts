/**
 * Regressions for leftovers found by hand and by the chaos suite, through the real CLI on local
 * directories (processes backend):
 * - a worker killed after its attempt finished left that attempt's temp directory (8 MB): now
 *   every attempt's files live under `<tmp>/smelter-jobs/<job>/`, removed by the coordinator;
 * - SIGINT in stage 2 left shuffle segments and the local work store's `.smelter/tmp`;
 * - an interrupted `--output FILE.duckdb` stayed behind with a partial `result` table;
 * - an input object overwritten mid-job left an in-flight attempt's segment;
 * - `smelter clean` on a job with nothing recorded, and on a bad argument: clear messages.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCli, tempLeftovers, waitForEvent } from "./harness.js";

describe("leftovers: regressions", () => {
  let local: string;
  before(() => {
    local = mkdtempSync(join(tmpdir(), "smelter-leftovers-"));
    execFileSync(process.execPath, [BIN, "datagen", "uservisits", "--rows", "6000", "--files", "2", "--out", join(local, "uv")], { stdio: "ignore" });
  });
  after(() => {
    if (local) rmSync(local, { recursive: true, force: true });
  });

  test("every attempt killed midway (SIGKILL, no finally runs): the job fails loudly and no attempt's temp directory is left", async () => {
    const run = runCli(["query2", "--input", join(local, "uv"), "--partitions", "2", "--workers", "2", "--quiet"], { SMELTER_TEST_CHAOS_KILL: "rate=1,seed=1,points=during" });
    const exit = await run.exited;
    assert.equal(exit.code, 1, run.stderr());
    assert.match(run.stderr(), /failed after 3 attempt\(s\)[\s\S]*killed by SIGKILL/);
    assert.deepEqual(tempLeftovers(run.dirs.tmp), []);
    assert.equal(existsSync(join(run.dirs.tmp, "smelter-jobs")) ? readdirSync(join(run.dirs.tmp, "smelter-jobs")).length : 0, 0, "no job directory");
  });

  test("SIGINT in stage 2 with --output FILE.duckdb: exit 130, no segment, no .smelter/tmp, no DuckDB file", async () => {
    const events = join(local, "ev.jsonl");
    const db = join(local, "r.duckdb");
    const run = runCli(["query2", "--input", join(local, "uv"), "--task-bytes", "30000", "--partitions", "3", "--workers", "2", "--quiet", "--events", events, "--output", db], {});
    await waitForEvent(run, events, (e) => e.type === "attempt-running" && e.stage === 2);
    process.kill(run.child.pid!, "SIGINT");
    const exit = await run.exited;
    assert.equal(exit.code, 130, run.stderr());
    assert.deepEqual(tempLeftovers(run.dirs.tmp), []);
    assert.equal(existsSync(join(run.dirs.tmp, "smelter-work", ".smelter", "tmp")), false, "the work store's internal temp dir is gone");
    assert.equal(existsSync(db), false, "no DuckDB file that could pass for a result");
  });

  test("an input object overwritten mid-job: the job ends (exact or refused) and leaves no segment or temp file", async () => {
    const dir = join(local, "changing");
    execFileSync(process.execPath, [BIN, "datagen", "uservisits", "--rows", "6000", "--files", "2", "--out", dir], { stdio: "ignore" });
    const events = join(local, "ev-changing.jsonl");
    const run = runCli(["query2", "--input", dir, "--task-bytes", "20000", "--partitions", "2", "--workers", "2", "--quiet", "--events", events], {});
    await waitForEvent(run, events, (e) => e.type === "attempt-succeeded" && e.stage === 1);
    execFileSync(process.execPath, [BIN, "datagen", "uservisits", "--rows", "3000", "--files", "2", "--seed", "9", "--clean", "--out", dir], { stdio: "ignore" });
    const exit = await run.exited;
    assert.ok(exit.code === 0 || exit.code === 1, run.stderr());
    assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
    assert.deepEqual(tempLeftovers(run.dirs.tmp), []);
  });

  test("smelter clean: nothing recorded is said so (exit 0); a bad argument is refused in Smelter's words", async () => {
    const none = runCli(["clean", "j00000"], {});
    assert.equal((await none.exited).code, 0);
    assert.match(none.stderr(), /nothing is recorded as left by j00000/);
    const bad = runCli(["clean", "not a job"], {});
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.stderr(), /^\[smelter\] clean: "not a job" is neither a job id/);
    assert.doesNotMatch(bad.stderr(), /\n\s+at /);
  });
});
