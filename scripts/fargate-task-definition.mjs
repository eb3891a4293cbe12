#!/usr/bin/env node
// Writes what the fargate backend needs registered on AWS: the task definition (RegisterTaskDefinition's
// input, for `aws ecs register-task-definition --cli-input-json file://<out>.task-definition.json`)
// and the least-privilege IAM policies for the task role, the task execution role and the manager.
//
//   node scripts/fargate-task-definition.mjs --image ACCOUNT.dkr.ecr.REGION.amazonaws.com/smelter:1
//     --region REGION --task-role-arn ARN --execution-role-arn ARN
//     [--family smelter] [--cpu 1024] [--memory 2048] [--worker-module /app/workers.js]
//     [--cluster-arn arn:aws:ecs:REGION:ACCOUNT:cluster/NAME --repository-arn arn:aws:ecr:REGION:ACCOUNT:repository/NAME
//      --work s3://bucket/_smelter/ [--input s3://bucket/data/ ...]]   (for the IAM policies)
//     [--out smelter-fargate]
// The image: the Dockerfile in docs/backends/fargate.md. Needs `npm run build` first.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const repo = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    image: { type: "string" },
    region: { type: "string" },
    "task-role-arn": { type: "string" },
    "execution-role-arn": { type: "string" },
    family: { type: "string", default: "smelter" },
    cpu: { type: "string", default: "1024" },
    memory: { type: "string", default: "2048" },
    "worker-module": { type: "string" },
    "cluster-arn": { type: "string" },
    "repository-arn": { type: "string" },
    work: { type: "string" },
    input: { type: "string", multiple: true, default: [] },
    out: { type: "string", default: "smelter-fargate" },
  },
});
const fail = (message) => {
  process.stderr.write(`${message.startsWith("[smelter]") ? "" : "[smelter] "}${message}\n`);
  process.exit(1);
};
if (!existsSync(join(repo, "dist/src/backends/fargate/task-definition.js"))) fail("dist/ is missing: run npm run build first");
const { fargateTaskDefinition } = await import(join(repo, "dist/src/backends/fargate/task-definition.js"));
const { fargateIamPolicies } = await import(join(repo, "dist/src/backends/fargate/iam.js"));
try {
  const definition = fargateTaskDefinition({
    family: values.family,
    image: values.image,
    region: values.region,
    cpu: Number(values.cpu),
    memory: Number(values.memory),
    taskRoleArn: values["task-role-arn"],
    executionRoleArn: values["execution-role-arn"],
    ...(values["worker-module"] ? { workerModule: values["worker-module"] } : {}),
  });
  const written = [`${values.out}.task-definition.json`];
  writeFileSync(written[0], `${JSON.stringify(definition, null, 2)}\n`);
  if (values["cluster-arn"] || values.work) {
    const policies = fargateIamPolicies({
      clusterArn: values["cluster-arn"] ?? "",
      family: values.family,
      taskRoleArn: values["task-role-arn"],
      executionRoleArn: values["execution-role-arn"],
      repositoryArn: values["repository-arn"] ?? "",
      work: values.work ?? "",
      inputs: values.input,
    });
    for (const [name, doc] of Object.entries({ "task-role-policy": policies.taskRole, "execution-role-policy": policies.executionRole, "manager-policy": policies.manager })) {
      const file = `${values.out}.${name}.json`;
      writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
      written.push(file);
    }
  }
  process.stderr.write(`[smelter] wrote ${written.join(", ")}\n`);
} catch (err) {
  fail(err.message ?? String(err));
}
