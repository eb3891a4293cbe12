/**
 * The object-storage part of the least-privilege IAM policies the remote backends generate (the
 * Lambda function's role, the Fargate task role, the manager's): read the inputs, read and write
 * the job's work prefix, list only those prefixes. Plain JSON documents, no AWS SDK.
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

/** Statements for a job's storage: GetObject on the inputs, read/write/delete on the work prefix, ListBucket limited to those prefixes. */
export function storageStatements(work: string, inputs: readonly string[] = []): IamStatement[] {
  const w = s3Parts(work);
  const ins = inputs.map(s3Parts);
  const places = [w, ...ins];
  return [
    ...(ins.length ? [{ Sid: "ReadInputs", Effect: "Allow" as const, Action: ["s3:GetObject"], Resource: ins.map((p) => `arn:aws:s3:::${p.bucket}/${p.prefix}*`) }] : []),
    { Sid: "WorkPrefix", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: [`arn:aws:s3:::${w.bucket}/${w.prefix}*`] },
    ...[...new Set(places.map((p) => p.bucket))].map((bucket, i) => ({
      Sid: `List${i}`,
      Effect: "Allow" as const,
      Action: ["s3:ListBucket"],
      Resource: [`arn:aws:s3:::${bucket}`],
      Condition: { StringLike: { "s3:prefix": places.filter((p) => p.bucket === bucket).map((p) => `${p.prefix}*`) } },
    })),
  ];
}

/** `s3://bucket/prefix/` -> its bucket and prefix. Throws ConfigError for anything else. */
export function s3Parts(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?(.*)$/.exec(url);
  if (!m) throw new ConfigError(`"${url}" is not an s3://bucket/prefix URL: write the bucket and prefix the job uses`);
  return { bucket: m[1]!, prefix: m[2]! };
}
