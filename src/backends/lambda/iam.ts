/**
 * Least-privilege IAM policies for running a job on the lambda backend: one for the function's
 * execution role (read the inputs, read and write the job's work prefix, write its logs) and one
 * for the manager (invoke the function, read and write the work prefix). Plain JSON documents:
 * `scripts/build-lambda-zip.mjs` writes them next to the zip; attach them with your own tooling.
 */
import { storageStatements, type IamPolicy } from "../iam-s3.js";

export type { IamPolicy } from "../iam-s3.js";

export interface LambdaIamOptions {
  /** The function's ARN, e.g. `arn:aws:lambda:us-east-1:123456789012:function:smelter`. */
  functionArn: string;
  /** The job's work store: `s3://bucket/prefix/` (payloads, results, shuffle data). */
  work: string;
  /** What the tasks read: `s3://bucket/prefix/` each. @default [] */
  inputs?: string[];
}

/** The two policies: `functionRole` for the execution role, `manager` for whoever runs `smelter`. */
export function lambdaIamPolicies(o: LambdaIamOptions): { functionRole: IamPolicy; manager: IamPolicy } {
  const storage = storageStatements(o.work, o.inputs);
  const region = /^arn:aws[\w-]*:lambda:([^:]+):(\d+):/.exec(o.functionArn);
  const name = o.functionArn.split(":function:")[1]?.split(":")[0] ?? "*";
  const logs = region ? `arn:aws:logs:${region[1]}:${region[2]}:log-group:/aws/lambda/${name}:*` : "*";
  return {
    functionRole: {
      Version: "2012-10-17",
      Statement: [
        ...storage,
        { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logs] },
      ],
    },
    manager: {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Invoke", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [o.functionArn, `${o.functionArn}:*`] },
        ...storage,
      ],
    },
  };
}
