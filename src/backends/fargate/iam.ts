/**
 * Least-privilege IAM policies for running a job on the fargate backend: the task role (what the
 * worker reads and writes: the inputs and the job's work prefix), the task execution role (pull
 * the image, write the logs) and the manager's (run, describe and stop tasks of this task
 * definition in this cluster, pass the two roles to ECS, read and write the work prefix).
 * Plain JSON documents; the storage part is shared with the Lambda policies (../s3-policy.ts).
 */
import { ConfigError } from "../../job/errors.js";
import { s3AccessStatements, type IamPolicy } from "../s3-policy.js";

export interface FargateIamOptions {
  /** The cluster's ARN, e.g. `arn:aws:ecs:us-east-1:123456789012:cluster/smelter`. */
  clusterArn: string;
  /** The task definition's family, e.g. `smelter`. */
  family: string;
  taskRoleArn: string;
  executionRoleArn: string;
  /** The image's ECR repository ARN (`arn:aws:ecr:REGION:ACCOUNT:repository/NAME`). */
  repositoryArn: string;
  /** The tasks' log group. @default "/smelter/<family>" */
  logGroup?: string;
  /** The job's work store: `s3://bucket/prefix/`. */
  work: string;
  /** What the tasks read: `s3://bucket/prefix/` each. @default [] */
  inputs?: string[];
}

/** The three policies: `taskRole`, `executionRole`, `manager`. */
export function fargateIamPolicies(o: FargateIamOptions): { taskRole: IamPolicy; executionRole: IamPolicy; manager: IamPolicy } {
  const m = /^arn:(aws[\w-]*):ecs:([a-z0-9-]+):(\d{12}):cluster\/([\w-]+)$/.exec(o.clusterArn);
  if (!m) throw new ConfigError(`"${o.clusterArn}" is not an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)`);
  const [, partition, region, account, cluster] = m;
  if (!/^arn:aws[\w-]*:ecr:[a-z0-9-]+:\d{12}:repository\/.+$/.test(o.repositoryArn)) throw new ConfigError(`"${o.repositoryArn}" is not an ECR repository ARN (arn:aws:ecr:REGION:ACCOUNT:repository/NAME)`);
  const storage = s3AccessStatements({ work: o.work, inputs: o.inputs });
  const logGroup = `arn:${partition}:logs:${region}:${account}:log-group:${o.logGroup ?? `/smelter/${o.family}`}`;
  return {
    taskRole: { Version: "2012-10-17", Statement: storage },
    executionRole: {
      Version: "2012-10-17",
      Statement: [
        // ECR's token is account-wide: GetAuthorizationToken takes no resource but "*".
        { Sid: "EcrToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        { Sid: "PullImage", Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], Resource: [o.repositoryArn] },
        { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logGroup, `${logGroup}:*`] },
      ],
    },
    manager: {
      Version: "2012-10-17",
      Statement: [
        { Sid: "RunTask", Effect: "Allow", Action: ["ecs:RunTask"], Resource: [`arn:${partition}:ecs:${region}:${account}:task-definition/${o.family}:*`], Condition: { ArnEquals: { "ecs:cluster": o.clusterArn } } },
        { Sid: "Tasks", Effect: "Allow", Action: ["ecs:DescribeTasks", "ecs:StopTask"], Resource: [`arn:${partition}:ecs:${region}:${account}:task/${cluster}/*`] },
        { Sid: "Cluster", Effect: "Allow", Action: ["ecs:DescribeClusters"], Resource: [o.clusterArn] },
        // DescribeTaskDefinition has no resource-level permissions: "*" is the only resource it takes.
        { Sid: "TaskDefinition", Effect: "Allow", Action: ["ecs:DescribeTaskDefinition"], Resource: ["*"] },
        { Sid: "PassRoles", Effect: "Allow", Action: ["iam:PassRole"], Resource: [o.taskRoleArn, o.executionRoleArn], Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } },
        ...storage,
      ],
    },
  };
}
