/**
 * Least-privilege IAM policies for running a job on the lambda backend: one for the function's
 * execution role (read the inputs, read and write the job's work prefix, write its logs) and one
 * for the manager (invoke the function, read and write the work prefix). Plain JSON documents:
 * `scripts/build-lambda-zip.mjs` writes them next to the zip; attach them with your own tooling.
 */
import { ConfigError } from "../../job/errors.js";

export interface LambdaIamOptions {
  /** The function's ARN, e.g. `arn:aws:lambda:us-east-1:123456789012:function:smelter`. */
  functionArn: string;
  /** The job's work store: `s3://bucket/prefix/` (payloads, results, shuffle data). */
  work: string;
  /** What the tasks read: `s3://bucket/prefix/` each. @default [] */
  inputs?: string[];
}

export interface IamPolicy {
  Version: "2012-10-17";
  Statement: { Sid: string; Effect: "Allow"; Action: string[]; Resource: string[]; Condition?: Record<string, unknown> }[];
}

/** The two policies: `functionRole` for the execution role, `manager` for whoever runs `smelter`. */
export function lambdaIamPolicies(o: LambdaIamOptions): { functionRole: IamPolicy; manager: IamPolicy } {
  const work = s3Parts(o.work);
  const inputs = (o.inputs ?? []).map(s3Parts);
  const readWrite = (sid: string) => ({ Sid: sid, Effect: "Allow" as const, Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: [`arn:aws:s3:::${work.bucket}/${work.prefix}*`] });
  const list = (sid: string, places: { bucket: string; prefix: string }[]) =>
    [...new Set(places.map((p) => p.bucket))].map((bucket, i) => ({
      Sid: `${sid}${i}`,
      Effect: "Allow" as const,
      Action: ["s3:ListBucket"],
      Resource: [`arn:aws:s3:::${bucket}`],
      Condition: { StringLike: { "s3:prefix": places.filter((p) => p.bucket === bucket).map((p) => `${p.prefix}*`) } },
    }));
  const region = /^arn:aws[\w-]*:lambda:([^:]+):(\d+):/.exec(o.functionArn);
  const name = o.functionArn.split(":function:")[1]?.split(":")[0] ?? "*";
  const logs = region ? `arn:aws:logs:${region[1]}:${region[2]}:log-group:/aws/lambda/${name}:*` : "*";
  return {
    functionRole: {
      Version: "2012-10-17",
      Statement: [
        ...(inputs.length ? [{ Sid: "ReadInputs", Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: inputs.map((p) => `arn:aws:s3:::${p.bucket}/${p.prefix}*`) }] : []),
        readWrite("WorkPrefix"),
        ...list("List", [work, ...inputs]),
        { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logs] },
      ],
    },
    manager: {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Invoke", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [o.functionArn, `${o.functionArn}:*`] },
        ...(inputs.length ? [{ Sid: "ReadInputs", Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: inputs.map((p) => `arn:aws:s3:::${p.bucket}/${p.prefix}*`) }] : []),
        readWrite("WorkPrefix"),
        ...list("List", [work, ...inputs]),
      ],
    },
  };
}

function s3Parts(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?(.*)$/.exec(url);
  if (!m) throw new ConfigError(`"${url}" is not an s3://bucket/prefix URL: write the bucket and prefix the job uses`);
  return { bucket: m[1]!, prefix: m[2]! };
}
