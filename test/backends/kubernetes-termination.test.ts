/**
 * How a pod's end maps to Smelter's failure kinds (src/backends/kubernetes/termination.ts), for
 * the states the watch can deliver in either order: the pod stopped by the Job controller at its
 * deadline (exit 143) can be seen before the Job's DeadlineExceeded condition.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { kubernetesTermination } from "../../src/backends/kubernetes/termination.js";

const pod = (exitCode: number, reason = "Error"): V1Pod => ({ metadata: { name: "p" }, status: { phase: "Failed", containerStatuses: [{ name: "task", image: "i", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode, reason } } }] } });
const deadlineJob: V1Job = { status: { conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" }] } };
const base = { what: "task t", memory: "512Mi", retryOutOfMemory: false };

describe("kubernetes termination", () => {
  it("a container stopped by a signal after the attempt's deadline is a TaskTimeout, before the Job's condition is seen", () => {
    for (const code of [143, 137]) {
      const e = kubernetesTermination({ ...base, pod: pod(code), pastDeadline: true });
      assert.equal(e?.type, "TaskTimeout", `exit ${code}`);
      assert.match(e!.message, /reached its deadline .* exit code 1[34][37] after the deadline/);
    }
  });
  it("the same exit before the deadline, or another exit code, is left to the exit-code mapping", () => {
    assert.equal(kubernetesTermination({ ...base, pod: pod(143), pastDeadline: false }), undefined);
    assert.equal(kubernetesTermination({ ...base, pod: pod(1), pastDeadline: true }), undefined);
  });
  it("the Job's DeadlineExceeded is a TaskTimeout and OOMKilled an OutOfMemory, whatever the deadline says", () => {
    assert.equal(kubernetesTermination({ ...base, pod: pod(143), job: deadlineJob })?.type, "TaskTimeout");
    const oom = kubernetesTermination({ ...base, pod: pod(137, "OOMKilled"), pastDeadline: true });
    assert.equal(oom?.type, "OutOfMemory");
    assert.equal(oom?.nonRetryable, true);
  });
});
