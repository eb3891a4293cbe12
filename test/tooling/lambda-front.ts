/**
 * A local AWS Lambda endpoint for tests (test tooling): the real Runtime Interface Emulator
 * (aws-lambda-rie, built by scripts/install-lambda-rie.sh) runs the function's bootstrap as a
 * local process, and this small front gives `@aws-sdk/client-lambda` what real Lambda answers
 * and RIE alone does not (see docs/testing-cloud.md):
 * - one RIE per execution environment (RIE serves one invocation at a time), reused warm, a new
 *   one (a cold start) when all are busy, up to the function's concurrency;
 * - past it, 429 TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded;
 * - `X-Amz-Function-Error: Unhandled` on a function error (the front sees the runtime's POST
 *   .../error through a runtime-API proxy in front of each RIE), a timeout (Sandbox.Timedout) and
 *   a crash (Runtime.ExitError, a 502 from RIE); the environment is then thrown away;
 * - request over 6 MB: 413 RequestTooLargeException; result over 6 MB: Function.ResponseSizeTooLarge;
 * - `LogType: Tail`: the last 4 KB of the environment's output (START/END/REPORT lines) base64.
 * An invocation whose caller went away runs to its end (a Lambda cannot be stopped), holding its slot.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { once } from "node:events";
import { join } from "node:path";
import { ensureInstalled, freePort, killOnExit, stopProcess, TOOLS_BIN, waitForPort } from "./processes.js";

export const RIE_BINARY = join(TOOLS_BIN, "aws-lambda-rie");
/** Lambda's synchronous invocation payload limit, request and response (6 MB). */
export const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
const TAIL_BYTES = 4096;

export interface LambdaFrontOptions {
  /** The function's name (FunctionName, or the last part of its ARN). @default "smelter" */
  functionName?: string;
  /** The bootstrap command, e.g. `[process.execPath, "bootstrap.js"]`. */
  command: string[];
  /** The function's environment variables (the host's are not passed, as on Lambda; PATH is). */
  env?: Record<string, string>;
  /** Reserved concurrency: environments that may run at once. */
  concurrency: number;
  /** Function timeout in whole seconds. @default 30 */
  timeoutSeconds?: number;
  /** @default 1024 */
  memoryMb?: number;
}

export interface LambdaFrontStats {
  invocations: number;
  /** Execution environments started (each one's first invocation is a cold start). */
  coldStarts: number;
  throttled: number;
  functionErrors: number;
  active: number;
  maxActive: number;
}

export interface LambdaFront {
  /** `http://127.0.0.1:PORT`: give it to LambdaClient as `endpoint`. */
  endpoint: string;
  functionName: string;
  stats: LambdaFrontStats;
  /** Like PutFunctionConcurrency. */
  setConcurrency(n: number): void;
  /** Stops the server and every environment (running invocations included). */
  stop(): Promise<void>;
}

interface Environment {
  rie: ChildProcess;
  rieAddress: string;
  proxy: Server;
  /** The runtime posted .../error for the current invocation (its Lambda-Runtime-Function-Error-Type). */
  errorType: string | undefined;
  output: string;
  undoKillOnExit: () => void;
}

/** Builds aws-lambda-rie when missing (idempotent), then starts the front. */
export async function startLambdaFront(options: LambdaFrontOptions): Promise<LambdaFront> {
  await ensureInstalled("install-lambda-rie.sh", 5 * 60_000);
  const functionName = options.functionName ?? "smelter";
  const timeoutSeconds = options.timeoutSeconds ?? 30;
  let concurrency = options.concurrency;
  const idle: Environment[] = [];
  const all = new Set<Environment>();
  const stats: LambdaFrontStats = { invocations: 0, coldStarts: 0, throttled: 0, functionErrors: 0, active: 0, maxActive: 0 };
  let stopped = false;

  async function startEnvironment(): Promise<Environment> {
    const [apiPort, riePort] = [await freePort(), await freePort()];
    const env: Environment = { rie: undefined as unknown as ChildProcess, rieAddress: `127.0.0.1:${riePort}`, proxy: createServer(), errorType: undefined, output: "", undoKillOnExit: () => {} };
    // The runtime-API proxy: forwards everything to RIE's runtime API and notes POST .../error.
    env.proxy.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === "POST" && /\/runtime\/invocation\/[^/]+\/error$/.test(req.url ?? "")) {
        env.errorType = String(req.headers["lambda-runtime-function-error-type"] ?? "Unhandled");
      }
      const upstream = request({ host: "127.0.0.1", port: apiPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    env.proxy.listen(0, "127.0.0.1");
    await once(env.proxy, "listening");
    const proxyAddress = env.proxy.address();
    if (proxyAddress === null || typeof proxyAddress === "string") throw new Error("no proxy port");
    const args = [
      "--runtime-api-address", `127.0.0.1:${apiPort}`,
      "--runtime-interface-emulator-address", env.rieAddress,
      // RIE sets AWS_LAMBDA_RUNTIME_API to its own address; the bootstrap talks to the proxy instead.
      "env", `AWS_LAMBDA_RUNTIME_API=127.0.0.1:${proxyAddress.port}`, ...options.command,
    ];
    env.rie = spawn(RIE_BINARY, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        LANG: "C.UTF-8",
        TZ: ":UTC",
        AWS_REGION: "us-east-1",
        ...options.env,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(timeoutSeconds),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 1024),
        LOG_LEVEL: "error",
      },
    });
    env.undoKillOnExit = killOnExit(env.rie);
    const keep = (d: Buffer): void => {
      env.output = (env.output + d.toString()).slice(-64 * 1024);
    };
    env.rie.stdout?.on("data", keep);
    env.rie.stderr?.on("data", keep);
    all.add(env);
    stats.coldStarts++;
    await waitForPort(riePort, 10_000, env.rie, () => env.output);
    return env;
  }

  async function discard(env: Environment): Promise<void> {
    all.delete(env);
    env.undoKillOnExit();
    await stopProcess(env.rie, 0);
    env.proxy.closeAllConnections();
    env.proxy.close();
  }

  function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(text);
  }

  function awsError(res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
    reply(res, status, { Type: "User", message, ...extra }, { "x-amzn-errortype": type, "x-amzn-requestid": randomUUID(), ...headers });
  }

  async function invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations(\?.*)?$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match) return awsError(res, 404, "UnknownOperationException", `the test Lambda front serves Invoke only, not ${req.method} ${req.url}`);
    const name = decodeURIComponent(match[1] ?? "").split(":function:").pop()?.split(":")[0];
    if (name !== functionName) return awsError(res, 404, "ResourceNotFoundException", `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    const invocationType = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (invocationType !== "RequestResponse") return awsError(res, 400, "InvalidParameterValueException", `the test Lambda front supports InvocationType RequestResponse only, not ${invocationType}`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= PAYLOAD_LIMIT_BYTES) chunks.push(chunk as Buffer);
    }
    if (size > PAYLOAD_LIMIT_BYTES) {
      return awsError(res, 413, "RequestTooLargeException", `Request must be smaller than ${PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`);
    }
    if (stats.active >= concurrency) {
      stats.throttled++;
      return awsError(res, 429, "TooManyRequestsException", "Rate Exceeded.", { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" }, { "retry-after": "1" });
    }
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    stats.invocations++;
    const requestId = randomUUID();
    let env: Environment | undefined;
    try {
      const cold = idle.length === 0;
      env = idle.pop() ?? (await startEnvironment());
      env.errorType = undefined;
      env.output = "";
      const payload = Buffer.concat(chunks);
      let out: { status: number; body: string };
      try {
        out = await forward(env, payload, requestId, req.headers["x-amz-client-context"]);
      } catch (err) {
        // A new RIE that died at its start (a port freePort gave it was taken meanwhile by another
        // test's server, which answered the port check) never ran the function: start another, once.
        if (!cold || !(await exited(env.rie))) throw err;
        await discard(env);
        env = await startEnvironment();
        out = await forward(env, payload, requestId, req.headers["x-amz-client-context"]);
      }
      const timedOut = out.status === 200 && out.body.startsWith("Task timed out after");
      const crashed = out.status === 502;
      let body = out.body;
      let functionError = env.errorType !== undefined || timedOut || crashed;
      if (timedOut) {
        body = JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: ${out.body}` });
      } else if (crashed) {
        body = out.body || JSON.stringify({ errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: Runtime exited` });
      } else if (out.status !== 200) {
        throw new Error(`the Runtime Interface Emulator answered HTTP ${out.status}: ${out.body}`);
      } else if (!functionError && Buffer.byteLength(body) > PAYLOAD_LIMIT_BYTES) {
        functionError = true;
        body = JSON.stringify({ errorType: "Function.ResponseSizeTooLarge", errorMessage: `Response payload size exceeded maximum allowed payload size (${PAYLOAD_LIMIT_BYTES} bytes).` });
      }
      if (functionError) stats.functionErrors++;
      const headers: Record<string, string> = { "x-amzn-requestid": requestId, "x-amz-executed-version": "$LATEST" };
      if (functionError) headers["x-amz-function-error"] = "Unhandled";
      if (String(req.headers["x-amz-log-type"] ?? "") === "Tail") {
        headers["x-amz-log-result"] = Buffer.from(env.output).subarray(-TAIL_BYTES).toString("base64");
      }
      // A timed-out or crashed environment is reset on Lambda: throw it away (before answering).
      if (timedOut || crashed || stopped) await discard(env);
      else idle.push(env);
      reply(res, 200, body, headers);
    } catch (err) {
      const rie = env ? ` (RIE's output: ${JSON.stringify(env.output.slice(-500))}, ${env.rie.exitCode !== null || env.rie.signalCode !== null ? `exited ${env.rie.exitCode ?? env.rie.signalCode}` : "running"})` : "";
      if (env) await discard(env);
      if (!res.headersSent) awsError(res, 500, "ServiceException", `[test lambda front] ${(err as Error).message}${rie}`);
    } finally {
      stats.active--;
    }
  }

  /** Whether `child` has exited, or does within 200 ms. */
  async function exited(child: ChildProcess): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 200))]);
    return child.exitCode !== null || child.signalCode !== null;
  }

  function forward(env: Environment, payload: Buffer, requestId: string, clientContext: string | string[] | undefined): Promise<{ status: number; body: string }> {
    const [host, port] = env.rieAddress.split(":");
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-requestid": requestId };
      if (typeof clientContext === "string") headers["x-amz-client-context"] = clientContext;
      const r = request({ host, port: Number(port), method: "POST", path: "/2015-03-31/functions/function/invocations", headers }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }));
        res.on("error", reject);
      });
      r.on("error", reject);
      r.end(payload);
    });
  }

  const server = createServer((req, res) => void invoke(req, res));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no front port");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    functionName,
    stats,
    setConcurrency: (n) => {
      concurrency = n;
    },
    stop: async () => {
      stopped = true;
      server.closeAllConnections();
      server.close();
      idle.length = 0;
      await Promise.all([...all].map((env) => discard(env)));
    },
  };
}
