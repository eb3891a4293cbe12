/**
 * The fargate backend's pure parts: what a stopped task means (stopCode, exit code, container
 * reason), the cost estimate, the generated task definition and IAM policies, and the flags'
 * errors. No endpoint needed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Task } from "@aws-sdk/client-ecs";
import { fargateIamPolicies } from "../../src/backends/fargate/iam.js";
import { isCapacityFailure, stoppedFailure, taskCapacity } from "../../src/backends/fargate/stopped.js";
import { isThrottle } from "../../src/job/aws-errors.js";
import { fargateTaskDefinition } from "../../src/backends/fargate/task-definition.js";
import { fargateSettingsFromFlags } from "../../src/cli/fargate-flags.js";

const stopped = (t: Partial<Task>, container: Record<string, unknown> = {}): Task => ({ taskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/abc", lastStatus: "STOPPED", startedAt: new Date(), ...t, containers: [{ name: "smelter", ...container }] });

describe("what a stopped task means", () => {
  it("maps Spot, out of memory, no start and exit codes to Smelter's kinds", () => {
    const what = "attempt a1";
    assert.equal(stoppedFailure(stopped({ stopCode: "SpotInterruption", stoppedReason: "Your Spot Task was interrupted." }, { exitCode: 143 }), "smelter", what)?.type, "TaskPreempted");
    const oom = stoppedFailure(stopped({ stopCode: "EssentialContainerExited" }, { exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" }), "smelter", what);
    assert.equal(oom?.type, "OutOfMemory");
    assert.equal(oom?.nonRetryable, false);
    assert.equal(stoppedFailure(stopped({}, { exitCode: 137 }), "smelter", what)?.type, "OutOfMemory", "exit 137 alone (SIGKILL) is read as the memory limit");
    const noStart = stoppedFailure(stopped({ stopCode: "TaskFailedToStart", startedAt: undefined, stoppedReason: "CannotPullContainerError: pull access denied" }), "smelter", what);
    assert.equal(noStart?.type, "TaskFailedToStart");
    assert.match(noStart?.message ?? "", /failed to start \(CannotPullContainerError: pull access denied\): check the task definition's image/);
    assert.equal(stoppedFailure(stopped({}, { exitCode: 3 }), "smelter", what)?.type, "TaskCrashed");
    assert.equal(stoppedFailure(stopped({}, { exitCode: 0 }), "smelter", what), undefined);
  });

  it("reads what a task runs on, for the cost estimate: its cpu and memory when ECS gives them, and Spot or not", () => {
    assert.deepEqual(taskCapacity({ cpu: "256", memory: "512" }, true), { vcpu: 0.25, memoryGb: 0.5, spot: true });
    assert.deepEqual(taskCapacity({ cpu: "4096", memory: "30720" }, false), { vcpu: 4, memoryGb: 30, spot: false });
    assert.deepEqual(taskCapacity({}, false), { spot: false }, "no size told: the price table's");
  });

  it("tells capacity failures and throttling from configuration errors", () => {
    assert.ok(isCapacityFailure("Capacity is unavailable at this time. Please try again later or in a different availability zone"));
    assert.ok(!isCapacityFailure("MISSING"));
    assert.ok(isThrottle({ name: "ThrottlingException", message: "Rate exceeded" }));
    assert.ok(!isThrottle({ name: "ClientException", message: "TaskDefinition not found" }));
  });
});

describe("fargate task definition and IAM policies", () => {
  const roles = { taskRoleArn: "arn:aws:iam::123456789012:role/smelter-task", executionRoleArn: "arn:aws:iam::123456789012:role/smelter-exec" };

  it("generates a registrable task definition running Smelter's entry", () => {
    const td = fargateTaskDefinition({ image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/smelter:1", region: "us-east-1", ...roles });
    assert.equal(td.networkMode, "awsvpc");
    assert.deepEqual(td.requiresCompatibilities, ["FARGATE"]);
    assert.equal(td.runtimePlatform.cpuArchitecture, "X86_64", "Fargate Spot runs x86_64 only");
    assert.deepEqual([td.cpu, td.memory], ["1024", "2048"]);
    const c = td.containerDefinitions[0]!;
    assert.equal(c.name, "smelter");
    assert.deepEqual(c.command, ["node", "/app/node_modules/smelter/bin/smelter-task.js"]);
    assert.ok(!JSON.stringify(td).match(/AWS_SECRET|AWS_ACCESS_KEY/), "no credentials: the task role gives them");
    assert.throws(() => fargateTaskDefinition({ image: "i", region: "us-east-1", cpu: 256, memory: 4096, ...roles }), /memory 4096 MiB is not offered with cpu 256: use 512 to 2048 MiB in steps of 512/);
    assert.throws(() => fargateTaskDefinition({ image: "i", region: "us-east-1", cpu: 300, ...roles }), /cpu must be one of 256, 512/);
    assert.throws(() => fargateTaskDefinition({ image: "i", region: "us-east-1", ...roles, taskRoleArn: "smelter-task" }), /taskRoleArn must be an IAM role ARN/);
  });

  it("grants the task, the execution role and the manager only what the job needs", () => {
    const p = fargateIamPolicies({ clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/jobs", family: "smelter", ...roles, repositoryArn: "arn:aws:ecr:eu-west-1:123456789012:repository/smelter", work: "s3://jobs/_smelter/", inputs: ["s3://data/bdb/"] });
    const actions = (doc: typeof p.manager) => doc.Statement.flatMap((s) => s.Action.map((a) => `${a} ${s.Resource.join(",")}`));
    assert.deepEqual(actions(p.taskRole).sort(), [
      "s3:AbortMultipartUpload arn:aws:s3:::jobs/_smelter/*",
      "s3:DeleteObject arn:aws:s3:::jobs/_smelter/*",
      "s3:GetObject arn:aws:s3:::data/bdb/*",
      "s3:GetObject arn:aws:s3:::jobs/_smelter/*",
      "s3:ListBucket arn:aws:s3:::data",
      "s3:ListBucket arn:aws:s3:::jobs",
      "s3:PutObject arn:aws:s3:::jobs/_smelter/*",
    ]);
    const manager = actions(p.manager);
    assert.ok(manager.includes("ecs:RunTask arn:aws:ecs:eu-west-1:123456789012:task-definition/smelter:*"));
    assert.ok(manager.includes("ecs:StopTask arn:aws:ecs:eu-west-1:123456789012:task/jobs/*"));
    assert.ok(manager.includes(`iam:PassRole ${roles.taskRoleArn},${roles.executionRoleArn}`));
    const wildcards = [...p.manager.Statement, ...p.executionRole.Statement, ...p.taskRole.Statement].filter((s) => s.Resource.includes("*")).map((s) => s.Action.join(","));
    assert.deepEqual(wildcards.sort(), ["ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition"], "only the two actions AWS allows no resource for");
    assert.throws(() => fargateIamPolicies({ clusterArn: "jobs", family: "smelter", ...roles, repositoryArn: "x", work: "s3://jobs/" }), /not an ECS cluster ARN/);
  });
});

describe("--backend fargate flags", () => {
  const base = { fargateCluster: "jobs", fargateTaskDefinition: "smelter:3", fargateSubnets: "subnet-0a1b, subnet-0c2d", fargateSecurityGroups: "sg-0abc", input: "s3://data/bdb/uservisits/" };

  it("builds the backend's settings, with the store under the input's bucket by default", async () => {
    const s = await fargateSettingsFromFlags({ ...base, fargateSpot: true, fargateSpotFallback: "3", workers: 8 });
    assert.deepEqual(s.subnets, ["subnet-0a1b", "subnet-0c2d"]);
    assert.equal(s.store, "s3://data/_smelter/fargate/");
    assert.equal(s.concurrency, 8);
    assert.equal(s.spot?.fallbackAfterPreemptions, 3);
    assert.equal((await fargateSettingsFromFlags({ ...base, work: "s3://w/tmp" })).store, "s3://w/tmp/fargate/");
  });

  it("names every missing or bad setting", async () => {
    await assert.rejects(fargateSettingsFromFlags({ input: "s3://b/x/" }), /--backend fargate needs --fargate-cluster .*--fargate-task-definition .*--fargate-subnets .*--fargate-security-groups/);
    await assert.rejects(fargateSettingsFromFlags({ ...base, fargateSubnets: "subnet-zz" }), /--fargate-subnets: subnets must be subnet ids/);
    await assert.rejects(fargateSettingsFromFlags({ ...base, fargateRegion: "moon" }), /--fargate-region: region must look like us-east-1/);
    await assert.rejects(fargateSettingsFromFlags({ ...base, fargateEndpoint: "nowhere" }), /--fargate-endpoint: endpoint must be a URL/);
    await assert.rejects(fargateSettingsFromFlags({ ...base, input: "data/local/" }), /needs a place for envelopes and replies/);
  });
});

describe("the fargate section of smelter.config.json", () => {
  it("is checked by the backend's settings schema and becomes the flags' values", async () => {
    const { configFlagValues, configSchema } = await import("../../src/cli/config.js");
    const config = configSchema().parse({ backend: "fargate", stores: { work: "s3://jobs/_smelter/" }, fargate: { cluster: "smelter", taskDefinition: "smelter:3", subnets: ["subnet-0a1b"], securityGroups: ["sg-0a1b"], spot: true, spotFallback: 3 } });
    const settings = await fargateSettingsFromFlags(configFlagValues(config));
    assert.deepEqual([settings.cluster, settings.taskDefinition, settings.subnets, settings.securityGroups, settings.store], ["smelter", "smelter:3", ["subnet-0a1b"], ["sg-0a1b"], "s3://jobs/_smelter/fargate/"]);
    assert.equal(settings.spot?.fallbackAfterPreemptions, 3);
    const bad = configSchema().safeParse({ fargate: { cluster: "smelter", taskDefinition: "t", subnets: ["net-1"], securityGroups: ["sg-1"] } });
    assert.ok(!bad.success && /subnets must be subnet ids/.test(JSON.stringify(bad.error.issues)));
  });
});
