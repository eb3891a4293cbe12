/**
 * Creates or updates the Smelter Lambda function from a deployment zip (`smelter deploy lambda`,
 * src/cli/deploy.ts): GetFunction, then CreateFunction (runtime, handler, role, architecture,
 * memory, timeout, SMELTER_WORKER_MODULE) when it does not exist, else UpdateFunctionCode.
 * Credentials are the SDK's default chain (or the given client's).
 */
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient, UpdateFunctionCodeCommand } from "@aws-sdk/client-lambda";
import { credentialsProblem } from "../../job/aws-errors.js";
import { ConfigError, SmelterError } from "../../job/errors.js";
import { WORKER_MODULE_ENV } from "../remote/worker-side.js";

export interface DeployLambdaOptions {
  functionName: string;
  zip: Uint8Array;
  /** The worker module's file name inside the zip (SMELTER_WORKER_MODULE). */
  workerModule: string;
  /** The execution role's ARN (needed to create the function). */
  role?: string;
  arch: "x64" | "arm64";
  memoryMb: number;
  timeoutSeconds: number;
  runtime: string;
  region?: string;
  endpoint?: string;
  client?: LambdaClient;
}

export interface DeployResult {
  action: "created" | "updated";
  functionArn: string;
}

/** Creates the function, or updates its code when it exists. Throws ConfigError / SmelterError in Smelter's words. */
export async function deployLambda(o: DeployLambdaOptions): Promise<DeployResult> {
  const client = o.client ?? new LambdaClient({ ...(o.region ? { region: o.region } : {}), ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const where = `Lambda function ${o.functionName}${o.endpoint ? ` at ${o.endpoint}` : ""}`;
  const architecture = o.arch === "x64" ? "x86_64" : "arm64";
  try {
    let exists = true;
    try {
      await client.send(new GetFunctionCommand({ FunctionName: o.functionName }));
    } catch (err) {
      if ((err as Error).name !== "ResourceNotFoundException") throw err;
      exists = false;
    }
    if (exists) {
      const r = await client.send(new UpdateFunctionCodeCommand({ FunctionName: o.functionName, ZipFile: o.zip, Architectures: [architecture] }));
      return { action: "updated", functionArn: r.FunctionArn ?? o.functionName };
    }
    if (!o.role) throw new ConfigError(`${where} does not exist, and creating it needs --role: the ARN of its execution role (give it the function policy printed below)`);
    const r = await client.send(
      new CreateFunctionCommand({
        FunctionName: o.functionName,
        Runtime: o.runtime as never,
        Handler: "index.handler",
        Role: o.role,
        Code: { ZipFile: o.zip },
        Architectures: [architecture],
        MemorySize: o.memoryMb,
        Timeout: o.timeoutSeconds,
        Environment: { Variables: { [WORKER_MODULE_ENV]: o.workerModule } },
      }),
    );
    return { action: "created", functionArn: r.FunctionArn ?? o.functionName };
  } catch (err) {
    if (err instanceof SmelterError) throw err;
    const e = err as Error;
    if (credentialsProblem(err)) {
      throw new ConfigError(`${where}: the credentials were refused (${e.name}: ${e.message}): deploying needs lambda:GetFunction, lambda:CreateFunction, lambda:UpdateFunctionCode and iam:PassRole on the role`, { cause: err });
    }
    if (e.name === "InvalidParameterValueException") throw new ConfigError(`${where} refused the settings (${e.message}): check --role, --memory, --timeout and --arch`, { cause: err });
    throw new SmelterError(`could not deploy ${where} (${e.name}: ${e.message})`, { cause: err, type: "DeployFailed" });
  } finally {
    if (!o.client) client.destroy();
  }
}
