/**
 * The S3 part of every remote backend's least-privilege IAM policy: read the inputs, read and
 * write the job's work prefix, list both (prefix-scoped). The Lambda execution role, the Fargate
 * task role and a Kubernetes pod's cloud role (IRSA, Workload Identity) hold the same statements;
 * each backend adds its own (logs, invoke, ...). Plain JSON documents.
 */
import { ConfigError } from "../job/errors.js";

export interface IamStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, unknown>;
}

export interface IamPolicy {
  Version: "2012-10-17";
  Statement: IamStatement[];
}

export interface S3AccessOptions {
  /** The job's work store: `s3://bucket/prefix/` (payloads, results, shuffle data). */
  work: string;
  /** What the tasks read: `s3://bucket/prefix/` each. @default [] */
  inputs?: string[];
}

/** Read the inputs, read/write/delete under the work prefix, list the prefixes of both. */
export function s3AccessStatements(o: S3AccessOptions): IamStatement[] {
  const work = s3Parts(o.work);
  const inputs = (o.inputs ?? []).map(s3Parts);
  const places = [work, ...inputs];
  return [
    ...(inputs.length ? [{ Sid: "ReadInputs", Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: inputs.map((p) => `arn:aws:s3:::${p.bucket}/${p.prefix}*`) }] : []),
    { Sid: "WorkPrefix", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: [`arn:aws:s3:::${work.bucket}/${work.prefix}*`] },
    ...[...new Set(places.map((p) => p.bucket))].map((bucket, i) => ({
      Sid: `List${i}`,
      Effect: "Allow" as const,
      Action: ["s3:ListBucket"],
      Resource: [`arn:aws:s3:::${bucket}`],
      Condition: { StringLike: { "s3:prefix": places.filter((p) => p.bucket === bucket).map((p) => `${p.prefix}*`) } },
    })),
  ];
}

/** `s3://bucket/prefix` -> its parts; anything else is a ConfigError. */
function s3Parts(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?(.*)$/.exec(url);
  if (!m) throw new ConfigError(`"${url}" is not an s3://bucket/prefix URL: write the bucket and prefix the job uses`);
  return { bucket: m[1]!, prefix: m[2]! };
}
