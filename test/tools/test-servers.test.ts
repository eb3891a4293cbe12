/**
 * A test server that cannot start fails its tests with the reason and never keeps the test
 * process alive: real test files are run with `SMELTER_VERSITYGW` pointing to a missing binary,
 * and to one that exits at once, and must exit by themselves, failed, saying why, with no child
 * process of theirs left running (the embedded s3rver started beside it included).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const DIST_TEST = fileURLToPath(new URL("../", import.meta.url));
/** Only a guard against this test hanging itself; the runs take seconds. */
const HANG_GUARD_MS = 120_000;

const dir = mkdtempSync(join(tmpdir(), "smelter-test-servers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  output: string;
  marker: string;
}

/** Runs one compiled test file with `node --test` (no force-exit) and the given binary; resolves when it exits by itself. */
function runTestFile(file: string, binary: string): Promise<Run> {
  const marker = `smelter-marker-${randomUUID()}`;
  // TAP on every Node (Node 24's default reporter is spec even when piped), so the counts below
  // read the same. NODE_TEST_CONTEXT would make the child think it runs inside this test runner (and skip its file).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ["--test", "--test-reporter=tap", join(DIST_TEST, file)], {
    env: { ...env, SMELTER_VERSITYGW: binary, SMELTER_TEST_MARKER: marker },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      process.kill(-child.pid!, "SIGKILL");
      reject(new Error(`${file} did not exit within ${HANG_GUARD_MS / 1000} s with a broken test server (hung):\n${output}`));
    }, HANG_GUARD_MS);
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, output, marker });
    });
  });
}

/** Processes still running with `marker` in their environment (Linux /proc). */
function survivors(marker: string): number[] {
  assert.ok(existsSync("/proc/self/environ"), "this check reads /proc (Linux)");
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/** Children stop as their parent's pipe closes: give them a moment, then none may be left. */
async function assertNoSurvivors(marker: string): Promise<void> {
  for (let i = 0; i < 50 && survivors(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = survivors(marker);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.deepEqual(left, [], "child processes left running after the test file exited");
}

describe("a test server that fails to start", () => {
  it("missing binary: the file with two servers (versitygw + s3rver) fails with the reason and exits; s3rver is stopped", async () => {
    const missing = join(dir, "no-such-dir", "versitygw");
    const run = await runTestFile("outputs/parallel-upload-s3.test.js", missing);
    assert.notEqual(run.code, 0, run.output);
    assert.ok(run.output.includes(`is not installed at ${missing} (SMELTER_VERSITYGW)`), run.output);
    assert.match(run.output, /test servers? failed to start \(the others were stopped\): complete:/);
    assert.match(run.output, /# pass 0/);
    await assertNoSurvivors(run.marker);
  });

  it("a binary that exits at once: the reason it printed is in the failure", async () => {
    const broken = join(dir, "broken-versitygw");
    writeFileSync(broken, "#!/bin/sh\necho 'simulated: cannot bind' >&2\nexit 3\n");
    chmodSync(broken, 0o755);
    const run = await runTestFile("storage/s3-complete.test.js", broken);
    assert.notEqual(run.code, 0, run.output);
    assert.ok(run.output.includes(`versitygw (${broken}) exited with 3: simulated: cannot bind`), run.output);
    assert.match(run.output, /# pass 0/);
    await assertNoSurvivors(run.marker);
  });
});
