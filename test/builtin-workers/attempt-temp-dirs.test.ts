/**
 * An attempt's temp directory (src/builtin-workers/task-resources.ts): made under its job's
 * `smelter-jobs/<jobId>/`, removed when the attempt ends together with the job's directory once
 * that is empty (a worker whose temp dir is not its coordinator's left empty job directories in
 * /tmp), and made again when another attempt's release removes the job's directory meanwhile.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { attemptTempDir, releaseAttemptTempDir } from "../../src/builtin-workers/task-resources.js";
import { jobTempDir } from "../../src/job/temporaries.js";

describe("attempts' temp directories", () => {
  it("the last attempt to end removes its job's directory; an earlier one leaves it to the others", async () => {
    const jobId = `jtmp${process.pid}a`;
    const a = await attemptTempDir({ jobId, attemptId: `${jobId}-s01-t00000-a1` });
    const b = await attemptTempDir({ jobId, attemptId: `${jobId}-s01-t00001-a1` });
    await writeFile(join(a, "x"), "x");
    await releaseAttemptTempDir(a);
    assert.deepEqual(readdirSync(jobTempDir(jobId)).map((n) => join(jobTempDir(jobId), n)), [b]);
    await releaseAttemptTempDir(b);
    assert.equal(existsSync(jobTempDir(jobId)), false);
  });

  it("200 attempts starting while others end: each gets its directory, none is left", async () => {
    const jobId = `jtmp${process.pid}b`;
    let live = await attemptTempDir({ jobId, attemptId: `${jobId}-a0` });
    for (let i = 1; i <= 200; i++) {
      // The release may remove the job's directory while the next attempt is making it.
      const [next] = await Promise.all([attemptTempDir({ jobId, attemptId: `${jobId}-a${i}` }), releaseAttemptTempDir(live)]);
      await writeFile(join(next, "x"), String(i));
      live = next;
    }
    await releaseAttemptTempDir(live);
    assert.equal(existsSync(jobTempDir(jobId)), false);
  });
});
