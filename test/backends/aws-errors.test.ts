/** The one AWS error classification (src/job/aws-errors.ts) on the SDK's own exceptions, and the call errors the ECS and Lambda backends build on it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClientException, ClusterNotFoundException, ECSServiceException, ServerException } from "@aws-sdk/client-ecs";
import { ResourceNotFoundException, TooManyRequestsException } from "@aws-sdk/client-lambda";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { ecsCallError } from "../../src/backends/fargate/stopped.js";
import { awsCallError, credentialsProblem, isNotFound, isThrottle, isUnreachable } from "../../src/job/aws-errors.js";
import { ConfigError } from "../../src/job/errors.js";

/** What the ECS SDK throws for a throttled call (the service has no class of its own for it). */
const ecsThrottle = () => new ECSServiceException({ name: "ThrottlingException", $fault: "client", message: "Rate exceeded", ...meta(400) });
const meta = (httpStatusCode?: number) => ({ $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });
const s3Error = (name: string, httpStatusCode: number) => new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? "server" : "client", message: name, ...meta(httpStatusCode) });

describe("AWS error classification", () => {
  it("throttling: ECS ThrottlingException, Lambda TooManyRequestsException, S3 SlowDown, any 429, 'Rate exceeded'", () => {
    assert.ok(isThrottle(ecsThrottle()));
    assert.ok(isThrottle(new TooManyRequestsException({ message: "Rate Exceeded.", ...meta(429) })));
    assert.ok(isThrottle(s3Error("SlowDown", 503)));
    assert.ok(isThrottle({ name: "Whatever", message: "", $metadata: { httpStatusCode: 429 } }));
    assert.ok(!isThrottle(new ClientException({ message: "TaskDefinition not found", ...meta(400) })));
    assert.ok(!isThrottle(new ServerException({ message: "internal", ...meta(500) })));
  });

  it("credentials: refused (access denied, bad signature, expired, 403) apart from missing (no provider found)", () => {
    assert.equal(credentialsProblem(s3Error("InvalidAccessKeyId", 403)), "refused");
    assert.equal(credentialsProblem({ name: "UnrecognizedClientException", message: "The security token included in the request is invalid" }), "refused");
    assert.equal(credentialsProblem({ name: "Unknown", message: "", $metadata: { httpStatusCode: 403 } }), "refused");
    assert.equal(credentialsProblem({ name: "CredentialsProviderError", message: "Could not load credentials from any providers" }), "missing");
    assert.equal(credentialsProblem(ecsThrottle()), undefined);
  });

  it("not found and unreachable", () => {
    assert.ok(isNotFound(new ClusterNotFoundException({ message: "Cluster not found.", ...meta(400) })));
    assert.ok(isNotFound(new ResourceNotFoundException({ message: "Function not found", Type: "User", ...meta(404) })));
    assert.ok(isNotFound(s3Error("NoSuchBucket", 404)));
    assert.ok(!isNotFound(new ClientException({ message: "TaskDefinition not found", ...meta(400) })));
    assert.ok(isUnreachable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })));
    assert.ok(!isUnreachable(new ServerException({ message: "internal", ...meta(500) })));
  });

  it("a failed call in Smelter's kinds: configuration not retried, the network and server faults retried, other client faults not", () => {
    const o = { where: "Lambda function f", call: "Invoke", notFound: "deploy it", credentials: "grant lambda:InvokeFunction", unreachableType: "LambdaUnreachable", errorType: "LambdaError" };
    const missing = awsCallError(new ResourceNotFoundException({ message: "Function not found", Type: "User", ...meta(404) }), o);
    assert.ok(missing instanceof ConfigError);
    assert.match(missing.message, /^\[smelter\] Lambda function f does not exist \(Function not found\): deploy it$/);
    assert.ok(awsCallError({ name: "AccessDeniedException", message: "no" }, o) instanceof ConfigError);
    const down = awsCallError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { ...o, forWhat: " for attempt a1" });
    assert.equal(down.type, "LambdaUnreachable");
    assert.match(down.message, /^\[smelter\] could not reach Lambda function f for attempt a1 \(ECONNREFUSED/);
    assert.equal(down.nonRetryable, false);
    const server = awsCallError(new ServerException({ message: "internal", ...meta(500) }), o);
    assert.equal(server.nonRetryable, false);
    assert.equal(awsCallError(new ClientException({ message: "bad", ...meta(400) }), o).nonRetryable, true);
    // ECS adds its own configuration errors (a bad task definition, subnets) on top.
    assert.ok(ecsCallError(new ClientException({ message: "bad subnet", ...meta(400) }), "ECS cluster c", "RunTask") instanceof ConfigError);
    assert.match(ecsCallError(new ClusterNotFoundException({ message: "Cluster not found.", ...meta(400) }), "ECS cluster c", "RunTask").message, /^\[smelter\] ECS cluster c does not exist \(Cluster not found\.\): create it or fix the cluster name and region$/);
  });
});
