/** The CLI's job report prices the job as it ran: `--backend fargate --fargate-spot` at Spot rates. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { JobReportWatch } from "../../src/cli/job-report-watch.js";
import { runToEnd, setup } from "../helpers/scheduler-setup.js";

test("a Fargate Spot job is priced as fargate-spot, an on-demand one as fargate", async () => {
  const totals: number[] = [];
  for (const [spot, expected] of [[true, "fargate-spot"], [false, "fargate"]] as const) {
    const { clock, job } = setup(() => ({ runMs: 60_000 }));
    const watch = new JobReportWatch(job, { quiet: true, backend: "fargate", fargateSpot: spot });
    const stage = job.stage({ worker: "w" });
    void stage.pushAll([0, 1]);
    assert.equal(await runToEnd(clock, job), undefined);
    const report = watch.build();
    assert.equal(report.backend, expected);
    assert.ok(report.cost.total > 0, "a Fargate job costs something");
    totals.push(report.cost.total);
  }
  assert.ok(totals[0]! < totals[1]!, `Spot (${totals[0]}) is priced below on-demand (${totals[1]})`);
});
