/**
 * `smelter deploy lambda` as a user runs it, against a small loopback endpoint that answers the
 * Lambda API's GetFunction / CreateFunction / UpdateFunctionCode as AWS documents them (the RIE
 * and its test front serve only invocations): the SDK's requests are checked field by field.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "smelter-deploy-"));
const zip = join(dir, "fn.zip");
const zipBytes = Buffer.from("PK\u0003\u0004 a stand-in for the function's zip");
writeFileSync(zip, zipBytes);
const worker = join(dir, "my-workers.js");
writeFileSync(worker, "export {};\n");

interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown>;
}
const seen: Seen[] = [];
const functions = new Map<string, string>();
let server: Server;
let endpoint = "";

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const path = decodeURIComponent((req.url ?? "").split("?")[0]!);
      seen.push({ method: req.method ?? "", path, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
      const name = /^\/2015-03-31\/functions\/([^/]+)/.exec(path)?.[1];
      if (req.method === "GET" && name) {
        const arn = functions.get(name);
        return arn ? json(200, { Configuration: { FunctionName: name, FunctionArn: arn } }) : json(404, { Type: "User", message: `Function not found: ${name}` }, { "x-amzn-errortype": "ResourceNotFoundException" });
      }
      if (req.method === "POST" && path === "/2015-03-31/functions") {
        const fn = JSON.parse(text) as { FunctionName: string };
        const arn = `arn:aws:lambda:us-east-1:123456789012:function:${fn.FunctionName}`;
        functions.set(fn.FunctionName, arn);
        return json(201, { FunctionName: fn.FunctionName, FunctionArn: arn });
      }
      if (req.method === "PUT" && name && path.endsWith("/code")) return json(200, { FunctionName: name, FunctionArn: functions.get(name) });
      json(400, { message: `unexpected ${req.method} ${path}` }, { "x-amzn-errortype": "InvalidRequestContentException" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function smelter(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" };
    const child = spawn(process.execPath, [bin, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("smelter deploy lambda", () => {
  const common = ["deploy", "lambda", "--worker", "", "--function", "smelter-test", "--zip", zip, "--arch", "arm64", "--memory", "3008", "--timeout", "300"];
  const args = (...more: string[]) => [...common.map((a, i) => (i === 3 ? worker : a)), ...more];

  it("creates a missing function with Smelter's settings and prints the IAM policies", async () => {
    seen.length = 0;
    const r = await smelter(...args("--role", "arn:aws:iam::123456789012:role/smelter-fn", "--lambda-endpoint", endpoint, "--work", "s3://bucket/_smelter/", "--input", "s3://bucket/data/"));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ["GET /2015-03-31/functions/smelter-test", "POST /2015-03-31/functions"]);
    const create = seen[1]!.body;
    assert.equal(create.FunctionName, "smelter-test");
    assert.equal(create.Runtime, "nodejs22.x");
    assert.equal(create.Handler, "index.handler");
    assert.equal(create.Role, "arn:aws:iam::123456789012:role/smelter-fn");
    assert.deepEqual(create.Architectures, ["arm64"]);
    assert.equal(create.MemorySize, 3008);
    assert.equal(create.Timeout, 300);
    assert.deepEqual(create.Environment, { Variables: { SMELTER_WORKER_MODULE: "my-workers.js" } });
    assert.equal((create.Code as { ZipFile: string }).ZipFile, zipBytes.toString("base64"), "the zip's bytes, as the SDK sends them");
    assert.match(r.stdout, /created arn:aws:lambda:us-east-1:123456789012:function:smelter-test/);
    const policies = r.stdout.split("\n# ").slice(1).map((block) => JSON.parse(block.slice(block.indexOf("\n") + 1, block.lastIndexOf("}") + 1)) as { Statement: { Action: string[]; Resource: string[] }[] });
    assert.equal(policies.length, 2, r.stdout);
    assert.ok(policies[0]!.Statement.some((s) => s.Resource.includes("arn:aws:s3:::bucket/_smelter/*")), "the role may use the work prefix");
    assert.ok(policies[1]!.Statement.some((s) => s.Action.includes("lambda:InvokeFunction") && s.Resource[0] === "arn:aws:lambda:us-east-1:123456789012:function:smelter-test"));
  });

  it("updates the code of an existing function", async () => {
    seen.length = 0;
    const r = await smelter(...args("--lambda-endpoint", endpoint));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ["GET /2015-03-31/functions/smelter-test", "PUT /2015-03-31/functions/smelter-test/code"]);
    assert.equal(seen[1]!.body.ZipFile, zipBytes.toString("base64"));
    assert.deepEqual(seen[1]!.body.Architectures, ["arm64"]);
    assert.match(r.stdout, /updated .*only the code was updated/s);
  });

  it("refuses bad settings before any request, and a missing role for a new function", async () => {
    seen.length = 0;
    const bad = await smelter("deploy", "lambda", "--worker", worker, "--function", "x", "--zip", zip, "--memory", "64", "--role", "not-an-arn");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^\[smelter\] bad flags: .*--role must be an IAM role ARN.*--memory must be 128 to 10240/m);
    assert.equal(seen.length, 0);
    const noRole = await smelter("deploy", "lambda", "--worker", worker, "--function", "new-fn", "--zip", zip, "--lambda-endpoint", endpoint);
    assert.equal(noRole.status, 1);
    assert.match(noRole.stderr, /Lambda function new-fn at http:\/\/127\.0\.0\.1:\d+ does not exist, and creating it needs --role/);
  });
});
