/**
 * A real Kubernetes control plane on loopback for tests (test tooling): etcd, kube-apiserver
 * (token auth, RBAC, service-account keys), kube-controller-manager (the job, serviceaccount,
 * token, garbage-collector and ttl-after-finished controllers) and kube-scheduler, built by
 * scripts/install-kube.sh (run first; idempotent). No kubelet can run here (no container runtime):
 * pair it with the local node agent (kube-node-agent.ts) to run pods as local processes.
 * Everything listens on 127.0.0.1 on free ports and `stop()` kills it all and removes its files.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ensureInstalled, freePort, killOnExit, stopProcess, TOOLS_BIN, waitFor } from "./processes.js";

export const KUBE_VERSION = "v1.37.2";
const ADMIN_TOKEN = "smelter-test-admin-token";

export interface KubeCluster {
  /** `https://127.0.0.1:PORT` (self-signed certificate: clients skip TLS verification). */
  server: string;
  /** Bearer token of a `system:masters` user. */
  token: string;
  /** A KubeConfig for `@kubernetes/client-node` with the admin token. */
  kubeConfig(): KubeConfig;
  /** Last output lines of each component, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

interface Component {
  name: string;
  child: ChildProcess;
  output: string;
  undo: () => void;
}

/** Builds the control plane when missing (~6 min once on 2 cores), then starts it (~4 s). */
export async function startKubeCluster(): Promise<KubeCluster> {
  await ensureInstalled("install-kube.sh", 60 * 60_000);
  const dir = await mkdtemp(join(tmpdir(), "smelter-kube-"));
  const components: Component[] = [];
  const logs = (): string => components.map((c) => `--- ${c.name}\n${c.output.split("\n").slice(-15).join("\n")}`).join("\n");
  const start = (name: string, binary: string, args: string[]): Component => {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], cwd: dir });
    const component: Component = { name, child, output: "", undo: killOnExit(child) };
    const keep = (d: Buffer): void => {
      component.output = (component.output + d.toString()).slice(-32 * 1024);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    components.push(component);
    return component;
  };
  const stop = async (): Promise<void> => {
    for (const c of [...components].reverse()) {
      c.undo();
      await stopProcess(c.child, 5000);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
    await writeFile(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    await writeFile(join(dir, "tokens.csv"), `${ADMIN_TOKEN},smelter-admin,smelter-admin,"system:masters"\n`);

    const [etcdPort, etcdPeerPort, apiPort, schedulerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const etcd = start("etcd", "etcd", [
      "--name", "smelter-test",
      "--data-dir", join(dir, "etcd"),
      "--listen-client-urls", `http://127.0.0.1:${etcdPort}`,
      "--advertise-client-urls", `http://127.0.0.1:${etcdPort}`,
      "--listen-peer-urls", `http://127.0.0.1:${etcdPeerPort}`,
      "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeerPort}`,
      "--initial-cluster", `smelter-test=http://127.0.0.1:${etcdPeerPort}`,
      "--log-level", "warn",
    ]);
    await waitFor("etcd to answer /health", 20_000, async () => {
      if (etcd.child.exitCode !== null) throw new Error(`etcd exited: ${etcd.output}`);
      const res = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return res.ok ? true : undefined;
    });

    start("kube-apiserver", join(TOOLS_BIN, "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "certs")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      "--service-cluster-ip-range=10.96.0.0/16",
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--v=0",
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfigPath = join(dir, "kubeconfig");
    await writeFile(
      kubeconfigPath,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "local", cluster: { server, "insecure-skip-tls-verify": true } }],
        users: [{ name: "admin", user: { token: ADMIN_TOKEN } }],
        contexts: [{ name: "local", context: { cluster: "local", user: "admin" } }],
        "current-context": "local",
      }),
    );
    await waitFor(`kube-apiserver /readyz on ${server}`, 60_000, async () => {
      const api = components.find((c) => c.name === "kube-apiserver");
      if (api && api.child.exitCode !== null) throw new Error(`kube-apiserver exited: ${api.output}`);
      return (await apiStatus(server, "/readyz")) === 200 ? true : undefined;
    });

    start("kube-controller-manager", join(TOOLS_BIN, "kube-controller-manager"), [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      "--controllers=job-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,ttl-after-finished-controller",
      `--service-account-private-key-file=${join(dir, "sa.key")}`,
      "--use-service-account-credentials=false",
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--v=0",
    ]);
    start("kube-scheduler", join(TOOLS_BIN, "kube-scheduler"), [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
      "--v=0",
    ]);

    const kubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "local", server, skipTLSVerify: true }],
        users: [{ name: "admin", token: ADMIN_TOKEN }],
        contexts: [{ name: "local", cluster: "local", user: "admin" }],
        currentContext: "local",
      });
      return kc;
    };
    // Ready for Jobs once the serviceaccount controller made the default namespace's account.
    await waitFor("the default service account (controller-manager running)", 60_000, async () => {
      for (const c of components) if (c.child.exitCode !== null) throw new Error(`${c.name} exited: ${c.output}`);
      return (await apiStatus(server, "/api/v1/namespaces/default/serviceaccounts/default")) === 200 ? true : undefined;
    });
    return { server, token: ADMIN_TOKEN, kubeConfig, logs, stop };
  } catch (err) {
    const message = `${(err as Error).message}\n${logs()}`;
    await stop();
    throw new Error(`the local Kubernetes control plane did not start: ${message}`, { cause: err });
  }
}

/** The HTTP status of an admin GET on the apiserver (self-signed certificate: not verified; loopback only); 0 when unreachable. */
async function apiStatus(server: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpsRequest(`${server}${path}`, { rejectUnauthorized: false, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}
