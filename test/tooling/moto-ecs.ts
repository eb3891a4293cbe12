/**
 * Starts the local ECS/Fargate endpoint for tests (test tooling): moto's ECS API with the task
 * agent of test/tooling/moto_ecs_agent.py in one Python process, from the venv that
 * scripts/install-moto.sh makes (installed first when missing). Every RunTask runs a real local
 * process; see the agent for what is real and what is emulated.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { ensureInstalled, killOnExit, REPO_ROOT, stopProcess } from "./processes.js";

const PYTHON = join(REPO_ROOT, ".tools", "moto", "bin", "python");
const AGENT = join(REPO_ROOT, "test", "tooling", "moto_ecs_agent.py");

export interface MotoEcsOptions {
  /** Seconds a task stays PROVISIONING, then PENDING, before its process starts. @default 0.2 each */
  provisioningSeconds?: number;
  pendingSeconds?: number;
  /** Seconds a stopping task spends in DEACTIVATING, STOPPING and DEPROVISIONING, in all. @default 0.1 */
  stepSeconds?: number;
  /** SIGTERM -> SIGKILL grace when a container definition has no stopTimeout (ECS: 30). @default 30 */
  stopTimeoutSeconds?: number;
}

export interface MotoEcs {
  /** `http://127.0.0.1:PORT`: give it to ECSClient as `endpoint`. */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** moto's default VPC subnets and security group, for `awsvpcConfiguration`. */
  network(): Promise<{ subnets: string[]; securityGroups: string[] }>;
  /** A Fargate Spot interruption of the task: stopCode SpotInterruption, SIGTERM, then SIGKILL. */
  interrupt(taskArn: string): Promise<void>;
  /** Fargate's out-of-memory kill of a running task: SIGKILL (exit 137), container reason "OutOfMemoryError: Container killed due to memory usage". */
  oomKill(taskArn: string): Promise<void>;
  /** RunTask on `provider` (FARGATE, FARGATE_SPOT) answers "Capacity is unavailable at this time..." while false. */
  setCapacity(provider: string, available: boolean): Promise<void>;
  /** The next `count` RunTask calls get ThrottlingException. */
  throttleRunTask(count: number): Promise<void>;
  /** While true, new tasks stay PROVISIONING (a task that never starts). */
  holdProvisioning(hold: boolean): Promise<void>;
  /** What the agent runs: each task's pid (null before its process started), lastStatus and exit code. */
  agentTasks(): Promise<Array<{ taskArn: string; pid: number | null; lastStatus: string; exitCode: number | null }>>;
  /** Output of the agent and of the tasks' processes (the last 64 KB). */
  output(): string;
  stop(): Promise<void>;
}

export async function startMotoEcs(options: MotoEcsOptions = {}): Promise<MotoEcs> {
  await ensureInstalled("install-moto.sh", 8 * 60_000);
  const child = spawn(PYTHON, [AGENT], {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      AWS_REGION: "us-east-1",
      AGENT_PROVISIONING_SECONDS: String(options.provisioningSeconds ?? 0.2),
      AGENT_PENDING_SECONDS: String(options.pendingSeconds ?? 0.2),
      AGENT_STEP_SECONDS: String(options.stepSeconds ?? 0.1),
      AGENT_STOP_TIMEOUT_SECONDS: String(options.stopTimeoutSeconds ?? 30),
    },
  });
  const undo = killOnExit(child);
  let output = "";
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-64 * 1024);
  });
  let ports: { ecsPort: number; controlPort: number };
  try {
    ports = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the moto ECS agent did not start within 30 s: ${output}`)), 30_000);
      child.once("exit", (code) => reject(new Error(`the moto ECS agent exited with code ${code}: ${output}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (!line.startsWith("READY ")) return;
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as { ecsPort: number; controlPort: number });
      });
    });
  } catch (err) {
    undo();
    await stopProcess(child, 0);
    throw err;
  }
  const controlUrl = `http://127.0.0.1:${ports.controlPort}`;
  const call = async (path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${controlUrl}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    const json: unknown = await res.json();
    if (!res.ok) throw new Error(`moto ECS agent ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    endpoint: `http://127.0.0.1:${ports.ecsPort}`,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    network: async () => (await call("/network")) as { subnets: string[]; securityGroups: string[] },
    interrupt: async (task) => void (await call("/interrupt", { task })),
    oomKill: async (task) => void (await call("/oom", { task })),
    setCapacity: async (provider, available) => void (await call("/capacity", { provider, available })),
    throttleRunTask: async (count) => void (await call("/throttle", { count })),
    holdProvisioning: async (hold) => void (await call("/hold", { hold })),
    agentTasks: async () => (await call("/tasks")) as Array<{ taskArn: string; pid: number | null; lastStatus: string; exitCode: number | null }>,
    output: () => output,
    stop: async () => {
      undo();
      child.stdin?.end();
      await stopProcess(child, 3000);
    },
  };
}
