/**
 * A minimal AWS Lambda custom runtime for Node: the Runtime API loop, no native code (the
 * bootstrap of Smelter's `smelter/lambda` handler, bin/smelter-lambda-bootstrap.js). Lambda (or the Runtime Interface Emulator) starts the
 * bootstrap with AWS_LAMBDA_RUNTIME_API=host:port; the loop then, forever:
 *   GET  /2018-06-01/runtime/invocation/next            -> the event, headers with the request id
 *   POST /2018-06-01/runtime/invocation/{id}/response   <- the handler's JSON result
 *   POST /2018-06-01/runtime/invocation/{id}/error      <- { errorType, errorMessage, stackTrace }
 * An error while loading the handler goes to POST /2018-06-01/runtime/init/error, then exit 1.
 * It uses node:http rather than fetch: the GET .../next long-poll may wait for minutes between
 * invocations, longer than fetch's (undici's) 300 s headers timeout.
 * Docs: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */
import { Agent, request } from "node:http";
import { systemContext } from "../../job/runtime-context.js";

export interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string;
  /** Epoch milliseconds when the invocation times out. */
  deadlineMs: number;
  getRemainingTimeInMillis(): number;
}

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

const API_PREFIX = "/2018-06-01/runtime";
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

interface RuntimeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: "GET" | "POST", path: string, body?: string, headers: Record<string, string> = {}): Promise<RuntimeResponse> {
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) throw new Error("[smelter] AWS_LAMBDA_RUNTIME_API is not set: this bootstrap must be started by Lambda or the Runtime Interface Emulator");
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: Number(port), method, path: `${API_PREFIX}${path}`, agent, headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function header(res: RuntimeResponse, name: string): string {
  const value = res.headers[name];
  return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
}

/** The error body the Runtime API (and so Lambda's Invoke response) carries. */
export function runtimeError(err: unknown): { errorType: string; errorMessage: string; stackTrace: string[] } {
  if (err instanceof Error) {
    return { errorType: err.name || "Error", errorMessage: err.message, stackTrace: (err.stack ?? "").split("\n").slice(1).map((l) => l.trim()) };
  }
  return { errorType: "Error", errorMessage: String(err), stackTrace: [] };
}

/** Loads the handler, then serves invocations until the process is stopped. Never returns. */
export async function runRuntimeLoop(loadHandler: () => Promise<LambdaHandler>): Promise<never> {
  let handler: LambdaHandler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const body = runtimeError(err);
    await call("POST", "/init/error", JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": `Runtime.${body.errorType}` }).catch(() => undefined);
    process.exit(1);
  }
  const clock = systemContext().clock;
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) throw new Error(`[smelter] the Lambda Runtime API answered ${next.status} to GET invocation/next: ${next.body}`);
    const requestId = header(next, "lambda-runtime-aws-request-id");
    const deadlineMs = Number(header(next, "lambda-runtime-deadline-ms")) || clock.now() + 900_000;
    const traceId = header(next, "lambda-runtime-trace-id");
    if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
    const context: LambdaContext = {
      awsRequestId: requestId,
      invokedFunctionArn: header(next, "lambda-runtime-invoked-function-arn"),
      deadlineMs,
      getRemainingTimeInMillis: () => Math.max(0, deadlineMs - clock.now()),
    };
    let result: string | undefined;
    let error: ReturnType<typeof runtimeError> | undefined;
    // Keeps the process alive while the handler waits on nothing the event loop holds (a promise
    // that never settles): the function's timeout ends such an invocation, as on Lambda, not Node.
    const keepAlive = clock.setTimeout(() => {}, 2 ** 31 - 1);
    try {
      const event: unknown = next.body === "" ? {} : JSON.parse(next.body);
      result = JSON.stringify((await handler(event, context)) ?? null);
    } catch (err) {
      error = runtimeError(err);
    } finally {
      clock.clearTimeout(keepAlive);
    }
    if (error === undefined) {
      await call("POST", `/invocation/${requestId}/response`, result);
    } else {
      await call("POST", `/invocation/${requestId}/error`, JSON.stringify(error), { "Lambda-Runtime-Function-Error-Type": error.errorType });
    }
  }
}
