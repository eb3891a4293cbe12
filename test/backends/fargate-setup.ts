/**
 * The Fargate test endpoint for the fargate backend's test files (test tooling): the embedded S3
 * server, moto's ECS API with the task agent, a cluster with FARGATE and FARGATE_SPOT, and the task
 * definition a user registers, whose container runs Smelter's entry (bin/smelter-task.js) with the
 * test workers. Stopped by `after` in the file that imports it.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { CreateClusterCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { fargateBackend, type FargateBackendOptions } from "../../src/backends/fargate/backend.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { urlObjects } from "../../src/url-objects.js";
import { startMotoEcs, type MotoEcs } from "../tooling/moto-ecs.js";

export const TASK_BIN = fileURLToPath(new URL("../../../bin/smelter-task.js", import.meta.url));
export const workers = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
export const CLUSTER = "smelter-test";
export const STORE = "s3://smelter/fargate-test/";

export const s3: S3Server = await startS3Server({ buckets: ["smelter", "bdb"] });
Object.assign(process.env, s3.env); // the manager side's store access; the tasks get theirs from the task definition
export const ecs: MotoEcs = await startMotoEcs({ provisioningSeconds: 0.1, pendingSeconds: 0.1, stepSeconds: 0.03, stopTimeoutSeconds: 2 });
export const client = new ECSClient({ endpoint: ecs.endpoint, region: ecs.region, credentials: ecs.credentials, maxAttempts: 1 });
export const network = await ecs.network();
await client.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ["FARGATE", "FARGATE_SPOT"] }));
/**
 * Registers the task definition a user would (here with the S3 server's test credentials in its
 * environment: on AWS, the task role gives them), its container running Smelter's entry with `workerModule`.
 */
export async function registerWorkerDefinition(family: string, workerModule: string, env: Record<string, string> = {}): Promise<void> {
  await client.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      containerDefinitions: [
        {
          name: "smelter",
          image: "smelter:test",
          memory: 512,
          essential: true,
          stopTimeout: 2,
          command: [process.execPath, TASK_BIN],
          environment: Object.entries({ ...s3.env, ...env, SMELTER_WORKER_MODULE: workerModule }).map(([name, value]) => ({ name, value })),
        },
      ],
    }),
  );
}
await registerWorkerDefinition("smelter-worker", workers);
after(async () => {
  client.destroy();
  await ecs.stop();
  await s3.stop();
});

export const backendWith = (o: Partial<FargateBackendOptions> = {}) =>
  fargateBackend({ cluster: CLUSTER, taskDefinition: "smelter-worker", subnets: network.subnets.slice(0, 1), securityGroups: network.securityGroups, client, concurrency: 2, store: STORE, objects: urlObjects, pollIntervalMs: 50, ...o });

export async function describeTask(taskArn: string) {
  const task = (await client.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))).tasks?.[0];
  assert.ok(task, `ECS knows ${taskArn}`);
  return task;
}

export async function leftovers(): Promise<string[]> {
  const { store } = await (await import("../../src/storage/url.js")).openStore("s3://smelter/");
  const keys: string[] = [];
  for await (const o of store.list("fargate-test/")) keys.push(o.key);
  return keys;
}

