/**
 * A local node agent for the test Kubernetes cluster (test tooling; emulates the part of a kubelet
 * the Job tests need, since no container runtime runs here). Through `@kubernetes/client-node` it:
 * - registers a Node (Ready, with capacity) and removes the `node.kubernetes.io/not-ready` taint the
 *   apiserver adds (no node-lifecycle controller runs);
 * - watches the pods bound to it and runs each pod's first container's command (+ args) as a local
 *   process with its env (values, and fieldRefs to the pod's name, namespace, uid and node);
 * - writes the pod status as a kubelet does: Running, then Succeeded or Failed with the container's
 *   exit code (128+N when killed by signal N) and reason Completed / Error / OOMKilled (`oomKill`,
 *   or the process's resident memory over the container's `resources.limits.memory`, checked
 *   every 50 ms as a cgroup would enforce it); a pod's own activeDeadlineSeconds: Failed, reason
 *   DeadlineExceeded;
 * - `hold(true)`: pods bound to the node stay Pending, their container waiting (ContainerCreating),
 *   as behind an image that never finishes pulling;
 * - serves the kubelet's `containerLogs` endpoint (HTTPS, a self-signed certificate made with
 *   openssl; the apiserver skips verifying a kubelet without --kubelet-certificate-authority), so
 *   `pods/log` through the apiserver returns the process's output, with `tailLines`/`limitBytes`;
 * - `env`: variables every process gets (the node's ambient credentials, as an instance role);
 * - on deletion SIGTERMs the process group (SIGKILL after the grace period), then removes the pod
 *   (delete with grace 0), as the kubelet does.
 * The image is not used. Everything else (scheduling, the Job controller, garbage collection) is
 * the real control plane's.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { stopProcess } from "./processes.js";

export interface NodeAgent {
  nodeName: string;
  /** Processes started so far (one per pod run). */
  started(): number;
  /** Pids of the processes running now, by `namespace/name` of their pod. */
  running(): Map<string, number>;
  /** Kills the pod's process as the kernel's OOM killer would: its status says OOMKilled, exit code 137. */
  oomKill(namespace: string, name: string): Promise<void>;
  /** Output of the pods' processes, by `namespace/name` (the last 16 KB each). */
  output(namespace: string, name: string): string;
  /** While true, new pods stay Pending (waiting: ContainerCreating) and are not started. */
  hold(on: boolean): void;
  /** Status writes that failed (the agent carries on; tests may assert it stayed empty). */
  errors: string[];
  /** Stops watching and kills every process it started (the Node object stays). */
  stop(): Promise<void>;
}

interface PodRun {
  key: string;
  namespace: string;
  name: string;
  child?: ChildProcess;
  startedAt?: string;
  exited?: Promise<void>;
  oomKilled: boolean;
  deadlineExceeded: boolean;
  terminating: boolean;
  output: string;
  timers: NodeJS.Timeout[];
}

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export async function startNodeAgent(kc: KubeConfig, options: { nodeName?: string; env?: Record<string, string> } = {}): Promise<NodeAgent> {
  const nodeName = options.nodeName ?? "smelter-local-node";
  let holding = false;
  const core = kc.makeApiClient(CoreV1Api);
  const runs = new Map<string, PodRun>();
  const errors: string[] = [];
  let stopped = false;

  const kubelet = await startKubeletServer((namespace, name) => [...runs.values()].find((r) => r.key === `${namespace}/${name}`)?.output);
  await registerNode(core, nodeName, kubelet.port);

  const patchStatus = async (run: PodRun, status: Record<string, unknown>): Promise<void> => {
    try {
      await core.patchNamespacedPodStatus({ name: run.name, namespace: run.namespace, body: { status } }, MERGE_PATCH);
    } catch (err) {
      if (!isNotFound(err)) errors.push(`status of ${run.key}: ${(err as Error).message}`);
    }
  };
  const removePod = async (run: PodRun): Promise<void> => {
    try {
      await core.deleteNamespacedPod({ name: run.name, namespace: run.namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err)) errors.push(`delete of ${run.key}: ${(err as Error).message}`);
    }
  };

  const start = (pod: V1Pod, run: PodRun): void => {
    const container = pod.spec?.containers?.[0];
    const command = [...(container?.command ?? []), ...(container?.args ?? [])];
    const now = new Date().toISOString();
    run.startedAt = now;
    const base = { startTime: now, hostIP: "127.0.0.1", hostIPs: [{ ip: "127.0.0.1" }], podIP: "127.0.0.1", podIPs: [{ ip: "127.0.0.1" }] };
    const containerName = container?.name ?? "main";
    const image = container?.image ?? "";
    const [executable, ...args] = command;
    if (executable === undefined) {
      run.exited = patchStatus(run, { ...base, phase: "Failed", containerStatuses: [terminated(containerName, image, 128, "StartError", now, now, "the container has no command (the node agent runs the command, not the image)")] });
      return;
    }
    const child = spawn(executable, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...options.env, ...podEnv(pod, container?.env ?? [], nodeName) } });
    run.child = child;
    const keep = (d: Buffer): void => {
      run.output = (run.output + d.toString()).slice(-16 * 1024);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    const exitedEvent = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (code, signal) => resolve([code, signal])));
    void patchStatus(run, {
      ...base,
      phase: "Running",
      conditions: conditions(true, now),
      containerStatuses: [{ name: containerName, image, imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
    });
    const memoryLimit = bytesOf(container?.resources?.limits?.memory);
    if (memoryLimit !== undefined && child.pid !== undefined) {
      const pid = child.pid;
      const watch = setInterval(() => {
        if (residentBytes(pid) > memoryLimit && !run.oomKilled) {
          run.oomKilled = true;
          void stopProcess(child, 0);
        }
      }, 50);
      run.timers.push(watch);
    }
    const deadline = pod.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) {
      run.timers.push(
        setTimeout(() => {
          run.deadlineExceeded = true;
          void stopProcess(child, 0);
        }, deadline * 1000),
      );
    }
    run.exited = exitedEvent.then(async ([code, signal]) => {
      for (const t of run.timers) clearTimeout(t);
      const finished = new Date().toISOString();
      const exitCode = spawnError ? 128 : code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      const reason = spawnError ? "StartError" : run.oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
      const status: Record<string, unknown> = {
        ...base,
        phase: exitCode === 0 && !run.deadlineExceeded ? "Succeeded" : "Failed",
        conditions: conditions(false, finished),
        containerStatuses: [terminated(containerName, image, exitCode, reason, now, finished, spawnError?.message)],
      };
      if (run.deadlineExceeded) Object.assign(status, { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" });
      await patchStatus(run, status);
    });
  };

  const hold = (pod: V1Pod, run: PodRun): Promise<void> => {
    const container = pod.spec?.containers?.[0];
    const now = new Date().toISOString();
    run.exited = Promise.resolve();
    return patchStatus(run, {
      phase: "Pending",
      hostIP: "127.0.0.1",
      startTime: now,
      conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: now }, { type: "Initialized", status: "True", lastTransitionTime: now }],
      containerStatuses: [{ name: container?.name ?? "main", image: container?.image ?? "", imageID: "", ready: false, started: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }],
    });
  };

  const terminate = (pod: V1Pod, run: PodRun): void => {
    if (run.terminating) return;
    run.terminating = true;
    const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    void (async () => {
      if (run.child) await stopProcess(run.child, grace * 1000, "SIGTERM");
      await run.exited;
      await removePod(run);
    })();
  };

  const onPod = (pod: V1Pod): void => {
    if (stopped || pod.spec?.nodeName !== nodeName) return;
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    let run = runs.get(pod.metadata?.uid ?? key);
    if (!run) {
      // A pod that already ended (seen again after a relist) is not started twice.
      if (pod.status?.phase !== "Pending" && pod.metadata?.deletionTimestamp === undefined) return;
      run = { key, namespace, name, oomKilled: false, deadlineExceeded: false, terminating: false, output: "", timers: [] };
      runs.set(pod.metadata?.uid ?? key, run);
      if (pod.metadata?.deletionTimestamp === undefined) {
        if (holding) void hold(pod, run);
        else start(pod, run);
      }
    }
    if (pod.metadata?.deletionTimestamp !== undefined) terminate(pod, run);
  };
  const onDeleted = (pod: V1Pod): void => {
    const run = runs.get(pod.metadata?.uid ?? "");
    if (run?.child) void stopProcess(run.child, 0);
  };

  const informer = makeInformer<V1Pod>(kc, "/api/v1/pods", () => core.listPodForAllNamespaces());
  informer.on("add", onPod);
  informer.on("update", onPod);
  informer.on("delete", onDeleted);
  informer.on("error", () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 500);
  });
  await informer.start();

  const byKey = (key: string): PodRun | undefined => [...runs.values()].find((r) => r.key === key);
  return {
    nodeName,
    errors,
    running: () => new Map([...runs.values()].filter((r) => r.child && r.child.exitCode === null && r.child.signalCode === null).map((r) => [r.key, r.child!.pid!])),
    oomKill: async (namespace, name) => {
      const run = byKey(`${namespace}/${name}`);
      if (!run?.child) throw new Error(`no process runs for pod ${namespace}/${name}`);
      run.oomKilled = true;
      await stopProcess(run.child, 0);
      await run.exited;
    },
    hold: (on) => void (holding = on),
    started: () => [...runs.values()].filter((r) => r.child).length,
    output: (namespace, name) => byKey(`${namespace}/${name}`)?.output ?? "",
    stop: async () => {
      stopped = true;
      await informer.stop();
      await kubelet.close();
      await Promise.all([...runs.values()].map(async (r) => {
        for (const t of r.timers) clearTimeout(t);
        if (r.child) await stopProcess(r.child, 0);
      }));
    },
  };
}

/** The kubelet API's `GET /containerLogs/{namespace}/{pod}/{container}` on 127.0.0.1, over HTTPS. */
async function startKubeletServer(outputOf: (namespace: string, name: string) => string | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "smelter-kubelet-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/[^/]+$/.exec(url.pathname);
      const output = m ? outputOf(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)) : undefined;
      if (output === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      const tail = Number(url.searchParams.get("tailLines") ?? NaN);
      let text = Number.isFinite(tail) ? output.split("\n").slice(-(tail + (output.endsWith("\n") ? 1 : 0))).join("\n") : output;
      const limit = Number(url.searchParams.get("limitBytes") ?? NaN);
      if (Number.isFinite(limit)) text = Buffer.from(text).subarray(0, limit).toString();
      res.writeHead(200, { "content-type": "text/plain" }).end(text);
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function registerNode(core: CoreV1Api, name: string, kubeletPort: number): Promise<void> {
  await core.createNode({ body: { metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux" } }, spec: {} } });
  const now = new Date().toISOString();
  const resources = { cpu: "8", memory: "16Gi", pods: "110", "ephemeral-storage": "100Gi" };
  await core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          capacity: resources,
          allocatable: resources,
          // InternalIP only: the apiserver reaches the kubelet API (pods/log) at the first preferred address type present.
          addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
          daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
          conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "smelter local node agent", lastHeartbeatTime: now, lastTransitionTime: now }],
          nodeInfo: {
            machineID: name, systemUUID: name, bootID: name, kernelVersion: "", osImage: "local processes", containerRuntimeVersion: "smelter-node-agent://0",
            kubeletVersion: "v1.37.2", kubeProxyVersion: "", operatingSystem: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch,
          },
        },
      },
    },
    MERGE_PATCH,
  );
  // The apiserver taints new nodes not-ready; no node-lifecycle controller runs to lift it.
  await core.patchNode({ name, body: { spec: { taints: null } } }, MERGE_PATCH);
}

function podEnv(pod: V1Pod, env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>, nodeName: string): NodeJS.ProcessEnv {
  const fields: Record<string, string | undefined> = {
    "metadata.name": pod.metadata?.name,
    "metadata.namespace": pod.metadata?.namespace,
    "metadata.uid": pod.metadata?.uid,
    "spec.nodeName": nodeName,
    "status.podIP": "127.0.0.1",
    "status.hostIP": "127.0.0.1",
  };
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", HOSTNAME: pod.metadata?.name ?? "" };
  for (const e of env) {
    const value = e.value ?? (e.valueFrom?.fieldRef ? fields[e.valueFrom.fieldRef.fieldPath] : undefined);
    out[e.name] = value ?? "";
  }
  return out;
}

function conditions(ready: boolean, at: string): Array<Record<string, string>> {
  const s = ready ? "True" : "False";
  return [
    { type: "PodScheduled", status: "True", lastTransitionTime: at },
    { type: "Initialized", status: "True", lastTransitionTime: at },
    { type: "ContainersReady", status: s, lastTransitionTime: at },
    { type: "Ready", status: s, lastTransitionTime: at },
  ];
}

function terminated(name: string, image: string, exitCode: number, reason: string, startedAt: string, finishedAt: string, message?: string): Record<string, unknown> {
  return { name, image, imageID: "", ready: false, started: false, restartCount: 0, state: { terminated: { exitCode, reason, startedAt, finishedAt, ...(message ? { message } : {}) } } };
}

/** A Kubernetes memory quantity in bytes (`512Mi`, `1G`, `1000000`). */
function bytesOf(quantity: string | undefined): number | undefined {
  const m = quantity === undefined ? null : /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!m) return undefined;
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]]! : 1);
}

/** The resident memory of a process (Linux /proc), 0 when it is gone. */
function residentBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}
