/**
 * A manager started as `node -e CODE` (or `--input-type=module -e`, `-p`, `--eval=`) must not hand
 * its program to the workers it forks: a worker given `-e CODE` runs the manager's code instead of
 * its bootstrap, and forks again (seen as a fork storm from a one-line benchmark script).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { inheritedExecArgv } from "../../src/backends/processes.js";

const backends = new URL("../../src/backends/index.js", import.meta.url).href;
const entry = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));

describe("processes backend: the Node options a worker inherits", () => {
  it("drops the manager's code options and their code, keeps the rest", () => {
    assert.deepEqual(inheritedExecArgv(["-e", "code()"]), []);
    assert.deepEqual(inheritedExecArgv(["--input-type=module", "-e", "code()"]), []);
    assert.deepEqual(inheritedExecArgv(["--eval=code()", "--max-old-space-size=100"]), ["--max-old-space-size=100"]);
    assert.deepEqual(inheritedExecArgv(["--max-old-space-size=100", "-pe", "code()", "--enable-source-maps"]), ["--max-old-space-size=100", "--enable-source-maps"]);
    assert.deepEqual(inheritedExecArgv(["-p", "1+1", "--inspect=0", "--test", "--watch"]), []);
  });

  it("a manager run as `node --input-type=module -e` runs a task on a forked worker, which does not re-run the manager's code", async () => {
    // A worker that re-runs this code sees the variable set by its parent and exits at once: no fork storm even when broken.
    const code = `
      if (process.env.SMELTER_TEST_MANAGER_CODE) { console.log("WORKER RAN THE MANAGER'S CODE"); process.exit(3); }
      process.env.SMELTER_TEST_MANAGER_CODE = "1";
      const { processesBackend } = await import(${JSON.stringify(backends)});
      const backend = processesBackend({ entry: ${JSON.stringify(entry)}, workers: 1 });
      const h = backend.launch({ jobId: "jargv", stage: 1, task: 0, attempt: 1, attemptId: "jargv-s01-t00000-a1", worker: "echo", input: 7 },
        { onRunning() {}, onLog() {}, onHeartbeat() {} });
      const outcome = await h.result;
      await backend.close();
      console.log(JSON.stringify(outcome));
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const exit = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(guard);
    assert.doesNotMatch(out, /WORKER RAN THE MANAGER'S CODE/);
    assert.equal(exit, 0, out);
    const last = JSON.parse(out.trim().split("\n").at(-1)!) as { status: string; output: unknown };
    assert.equal(last.status, "succeeded", out);
    assert.equal(last.output, 7);
  });
});
