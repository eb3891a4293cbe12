/**
 * The local ECS/Fargate endpoint (test tooling: moto's ECS API + the task agent of
 * test/tooling/moto_ecs_agent.py) seen through `@aws-sdk/client-ecs`, as the Fargate backend will
 * see it: RunTask on FARGATE and on a FARGATE_SPOT capacity provider strategy, the task's states,
 * a real process's exit code and environment, StopTask (SIGTERM) confirmed by DescribeTasks, a Spot
 * interruption, an out-of-memory kill, capacity failures, throttling, a task that never starts. Installs moto first when
 * missing (scripts/install-moto.sh); fails with the reason when it cannot.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type RunTaskCommandInput,
  type Task,
} from "@aws-sdk/client-ecs";
import { startMotoEcs, type MotoEcs } from "../tooling/moto-ecs.js";
import { isAlive, waitFor } from "../tooling/processes.js";

const CLUSTER = "smelter-test";
/** Writes SMELTER_TASK to $OUT, then exits with $CODE after $SLEEP_MS (SIGTERM not handled: 143). */
const WORKER = `const fs = require("node:fs");
fs.writeFileSync(process.env.OUT, JSON.stringify({ task: process.env.SMELTER_TASK, base: process.env.BASE, pid: process.pid }));
setTimeout(() => process.exit(Number(process.env.CODE ?? 0)), Number(process.env.SLEEP_MS ?? 0));`;

let ecs: MotoEcs;
let client: ECSClient;
let dir: string;
let network: { subnets: string[]; securityGroups: string[] };
let taskDefinition: string;

before(
  async () => {
    ecs = await startMotoEcs({ provisioningSeconds: 0.3, pendingSeconds: 0.3, stopTimeoutSeconds: 10 });
    client = new ECSClient({ endpoint: ecs.endpoint, region: ecs.region, credentials: ecs.credentials, maxAttempts: 1 });
    dir = await mkdtemp(join(tmpdir(), "smelter-ecs-"));
    network = await ecs.network();
    await client.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ["FARGATE", "FARGATE_SPOT"] }));
    const registered = await client.send(
      new RegisterTaskDefinitionCommand({
        family: "smelter-worker",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          {
            name: "worker",
            image: "smelter:test",
            memory: 512,
            essential: true,
            command: [process.execPath, "-e", WORKER],
            environment: [{ name: "BASE", value: "from-the-task-definition" }],
          },
        ],
      }),
    );
    taskDefinition = registered.taskDefinition?.taskDefinitionArn ?? "";
  },
  { timeout: 10 * 60_000 },
);
after(async () => {
  client?.destroy();
  await ecs?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let outputs = 0;
function runInput(env: Record<string, string>, extra: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput {
  return {
    cluster: CLUSTER,
    taskDefinition,
    launchType: "FARGATE",
    networkConfiguration: { awsvpcConfiguration: { subnets: network.subnets.slice(0, 1), securityGroups: network.securityGroups, assignPublicIp: "DISABLED" } },
    overrides: { containerOverrides: [{ name: "worker", environment: Object.entries(env).map(([name, value]) => ({ name, value })) }] },
    ...extra,
  };
}

async function runTask(env: Record<string, string>, extra: Partial<RunTaskCommandInput> = {}): Promise<Task> {
  const out = await client.send(new RunTaskCommand(runInput(env, extra)));
  assert.deepEqual(out.failures, []);
  const task = out.tasks?.[0];
  assert.ok(task?.taskArn, "RunTask started a task");
  return task;
}

async function describe1(taskArn: string): Promise<Task> {
  const out = await client.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
  const task = out.tasks?.[0];
  assert.ok(task, `DescribeTasks knows ${taskArn}`);
  return task;
}

/** Polls DescribeTasks until lastStatus is `status`; returns the task and every status seen on the way. */
async function until(taskArn: string, status: string, seen: string[] = []): Promise<Task> {
  return waitFor(`task ${taskArn} ${status} (seen: ${seen.join(" -> ")}; agent: ${ecs.output().slice(-500)})`, 20_000, async () => {
    const task = await describe1(taskArn);
    if (task.lastStatus && seen.at(-1) !== task.lastStatus) seen.push(task.lastStatus);
    return task.lastStatus === status ? task : undefined;
  });
}

const outFile = (): string => join(dir, `out-${++outputs}.json`);

describe("moto ECS + task agent, through the SDK", () => {
  it("RunTask on FARGATE: PROVISIONING -> PENDING -> RUNNING -> STOPPED, a real process with the overrides' environment and its exit code", async () => {
    const out = outFile();
    const started = await runTask({ OUT: out, CODE: "3", SLEEP_MS: "300", SMELTER_TASK: '{"attemptId":"j1-s01-t00000-a1"}' });
    assert.equal(started.lastStatus, "PROVISIONING");
    assert.equal(started.desiredStatus, "RUNNING");
    assert.equal(started.launchType, "FARGATE");
    const seen = [started.lastStatus ?? ""];
    const running = await until(started.taskArn!, "RUNNING", seen);
    assert.ok(running.startedAt instanceof Date);
    const stopped = await until(started.taskArn!, "STOPPED", seen);
    assert.deepEqual(
      seen.filter((s) => ["PROVISIONING", "PENDING", "RUNNING", "STOPPED"].includes(s)),
      ["PROVISIONING", "PENDING", "RUNNING", "STOPPED"],
    );
    assert.equal(stopped.desiredStatus, "STOPPED");
    assert.equal(stopped.stopCode, "EssentialContainerExited");
    assert.equal(stopped.stoppedReason, "Essential container in task exited");
    assert.equal(stopped.containers?.[0]?.exitCode, 3);
    assert.ok(stopped.stoppedAt instanceof Date);
    const written = JSON.parse(await readFile(out, "utf8"));
    assert.equal(written.task, '{"attemptId":"j1-s01-t00000-a1"}');
    assert.equal(written.base, "from-the-task-definition");
  });

  it("the overrides' command replaces the task definition's", async () => {
    const out = outFile();
    const started = await runTask({ OUT: out }, {
      overrides: {
        containerOverrides: [{ name: "worker", command: [process.execPath, "-e", `require("node:fs").writeFileSync(${JSON.stringify(out)}, "override"); process.exit(5)`] }],
      },
    });
    const stopped = await until(started.taskArn!, "STOPPED");
    assert.equal(stopped.containers?.[0]?.exitCode, 5);
    assert.equal(await readFile(out, "utf8"), "override");
  });

  it("StopTask sends SIGTERM; DescribeTasks confirms STOPPED with stopCode UserInitiated and the reason", async () => {
    const out = outFile();
    const started = await runTask({ OUT: out, SLEEP_MS: "60000" });
    await until(started.taskArn!, "RUNNING");
    const { pid } = JSON.parse(await waitFor("the task's output", 10_000, () => readFile(out, "utf8").catch(() => undefined)));
    assert.ok(isAlive(pid));
    const stopping = await client.send(new StopTaskCommand({ cluster: CLUSTER, task: started.taskArn, reason: "smelter: attempt killed" }));
    assert.equal(stopping.task?.desiredStatus, "STOPPED");
    const stopped = await until(started.taskArn!, "STOPPED");
    assert.equal(stopped.stopCode, "UserInitiated");
    assert.equal(stopped.stoppedReason, "smelter: attempt killed");
    assert.equal(stopped.containers?.[0]?.exitCode, 143, "killed by SIGTERM (128 + 15), not SIGKILL");
    assert.equal(isAlive(pid), false);
  });

  it("FARGATE_SPOT through a capacity provider strategy; a Spot interruption stops it with stopCode SpotInterruption", async () => {
    const out = outFile();
    const started = await runTask({ OUT: out, SLEEP_MS: "60000" }, { launchType: undefined, capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] });
    assert.equal(started.capacityProviderName, "FARGATE_SPOT");
    await until(started.taskArn!, "RUNNING");
    const { pid } = JSON.parse(await waitFor("the task's output", 10_000, () => readFile(out, "utf8").catch(() => undefined)));
    await ecs.interrupt(started.taskArn!);
    const stopped = await until(started.taskArn!, "STOPPED");
    assert.equal(stopped.stopCode, "SpotInterruption");
    assert.equal(stopped.stoppedReason, "Your Spot Task was interrupted.");
    assert.equal(stopped.containers?.[0]?.exitCode, 143);
    assert.equal(isAlive(pid), false);
  });

  it("an out-of-memory kill: SIGKILL, exit 137, the container's reason OutOfMemoryError", async () => {
    const out = outFile();
    const started = await runTask({ OUT: out, SLEEP_MS: "60000" });
    await until(started.taskArn!, "RUNNING");
    const { pid } = JSON.parse(await waitFor("the task's output", 10_000, () => readFile(out, "utf8").catch(() => undefined)));
    await ecs.oomKill(started.taskArn!);
    const stopped = await until(started.taskArn!, "STOPPED");
    assert.equal(stopped.stopCode, "EssentialContainerExited");
    assert.equal(stopped.containers?.[0]?.exitCode, 137);
    assert.equal(stopped.containers?.[0]?.reason, "OutOfMemoryError: Container killed due to memory usage");
    assert.equal(isAlive(pid), false);
  });

  it("no Spot capacity: RunTask answers a capacity failure and starts nothing; on-demand still runs", async () => {
    await ecs.setCapacity("FARGATE_SPOT", false);
    try {
      const out = await client.send(new RunTaskCommand(runInput({ OUT: outFile() }, { launchType: undefined, capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] })));
      assert.deepEqual(out.tasks, []);
      assert.match(out.failures?.[0]?.reason ?? "", /Capacity is unavailable at this time/);
      const onDemand = await runTask({ OUT: outFile() });
      assert.equal((await until(onDemand.taskArn!, "STOPPED")).containers?.[0]?.exitCode, 0);
    } finally {
      await ecs.setCapacity("FARGATE_SPOT", true);
    }
  });

  it("a throttled RunTask is ThrottlingException", async () => {
    await ecs.throttleRunTask(1);
    await assert.rejects(client.send(new RunTaskCommand(runInput({ OUT: outFile() }))), { name: "ThrottlingException" });
    await runTask({ OUT: outFile() });
  });

  it("a task that never starts stays PROVISIONING; StopTask stops it without a process", async () => {
    await ecs.holdProvisioning(true);
    try {
      const started = await runTask({ OUT: outFile() });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await describe1(started.taskArn!)).lastStatus, "PROVISIONING");
      await client.send(new StopTaskCommand({ cluster: CLUSTER, task: started.taskArn, reason: "start timeout" }));
      const stopped = await until(started.taskArn!, "STOPPED");
      assert.equal(stopped.stopCode, "UserInitiated");
      assert.equal(stopped.startedAt, undefined);
      const agent = (await ecs.agentTasks()).find((t) => t.taskArn === started.taskArn);
      assert.equal(agent?.pid, null, "no process was started");
    } finally {
      await ecs.holdProvisioning(false);
    }
  });
});
