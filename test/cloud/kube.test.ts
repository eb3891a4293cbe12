/**
 * The local Kubernetes endpoint (test tooling): a real kube-apiserver, controller-manager and
 * scheduler with etcd (scripts/install-kube.sh builds them once, ~6 min), plus the local node agent
 * that runs pods as processes, seen through `@kubernetes/client-node` as the Kubernetes backend
 * will see it. The Job controller's behaviour (completions, backoff, deadlines, foreground
 * deletion) is the real one. Fails with the reason when the control plane cannot be built here.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BatchV1Api, CoreV1Api, type V1Job, type V1Pod } from "@kubernetes/client-node";
import { startKubeCluster, type KubeCluster } from "../tooling/kube-cluster.js";
import { startNodeAgent, type NodeAgent } from "../tooling/kube-node-agent.js";
import { isAlive, waitFor } from "../tooling/processes.js";

const NS = "default";
let cluster: KubeCluster;
let agent: NodeAgent;
let batch: BatchV1Api;
let core: CoreV1Api;

before(
  async () => {
    cluster = await startKubeCluster();
    const kc = cluster.kubeConfig();
    agent = await startNodeAgent(kc);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
  },
  { timeout: 65 * 60_000 },
);
after(async () => {
  await agent?.stop();
  await cluster?.stop();
});

let jobs = 0;
function jobSpec(script: string, spec: Partial<NonNullable<V1Job["spec"]>> = {}, env: Record<string, string> = {}): V1Job {
  const name = `smelter-test-${++jobs}`;
  return {
    metadata: { name, namespace: NS },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: {
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: "worker",
              image: "smelter:test",
              command: [process.execPath, "-e", script],
              env: [...Object.entries(env).map(([n, value]) => ({ name: n, value })), { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            },
          ],
        },
      },
    },
  };
}

async function createJob(job: V1Job): Promise<string> {
  const created = await batch.createNamespacedJob({ namespace: NS, body: job });
  return created.metadata?.name ?? "";
}

async function jobCondition(name: string, type: "Complete" | "Failed"): Promise<{ job: V1Job; reason: string }> {
  return waitFor(`job ${name} ${type}; agent errors: ${agent.errors.join("; ")}`, 30_000, async () => {
    const job = await batch.readNamespacedJob({ name, namespace: NS });
    const c = job.status?.conditions?.find((x) => x.type === type && x.status === "True");
    return c ? { job, reason: c.reason ?? "" } : undefined;
  });
}

async function podsOf(job: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${job}` })).items;
}

async function runningPid(job: string): Promise<{ pod: string; pid: number }> {
  return waitFor(`a running process for job ${job}`, 20_000, async () => {
    const pods = await podsOf(job);
    const pod = pods.find((p) => p.status?.phase === "Running");
    const key = pod && `${NS}/${pod.metadata?.name}`;
    const pid = key ? agent.running().get(key) : undefined;
    return pod && pid ? { pod: pod.metadata?.name ?? "", pid } : undefined;
  });
}

const SLEEP = "setTimeout(() => {}, 600000)";

describe("kube control plane + local node agent, through @kubernetes/client-node", () => {
  it("a Job of 2 pods: scheduled on the node, Running, then Complete with both Succeeded", async () => {
    const name = await createJob(jobSpec(`console.log("task " + process.env.SMELTER_TASK + " on " + process.env.POD_NAME); setTimeout(() => {}, 300)`, { completions: 2, parallelism: 2 }, { SMELTER_TASK: "t7" }));
    const { pod } = await runningPid(name);
    const { job } = await jobCondition(name, "Complete");
    assert.equal(job.status?.succeeded, 2);
    const pods = await podsOf(name);
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.equal(p.spec?.nodeName, agent.nodeName);
      assert.equal(p.status?.phase, "Succeeded");
      assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
      assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.reason, "Completed");
    }
    assert.match(agent.output(NS, pod), new RegExp(`task t7 on ${pod}`));
  });

  it("exit 3: the pod Failed with exitCode 3 and the Job Failed (BackoffLimitExceeded)", async () => {
    const name = await createJob(jobSpec("process.exit(3)"));
    const { reason } = await jobCondition(name, "Failed");
    assert.equal(reason, "BackoffLimitExceeded");
    const [pod] = await podsOf(name);
    assert.equal(pod?.status?.phase, "Failed");
    assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.reason, "Error");
  });

  it("Foreground deletion of the Job SIGTERMs its process; the Job and its pods are gone once it stopped", async () => {
    const name = await createJob(jobSpec(`process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(0); }); console.log("ready"); ${SLEEP}`));
    const { pod, pid } = await runningPid(name);
    await waitFor("the SIGTERM handler to be installed", 10_000, () => (/ready/.test(agent.output(NS, pod)) ? true : undefined));
    await batch.deleteNamespacedJob({ name, namespace: NS, propagationPolicy: "Foreground" });
    await waitFor(`job ${name} deleted`, 30_000, async () => {
      try {
        await batch.readNamespacedJob({ name, namespace: NS });
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
    assert.equal(isAlive(pid), false, "the process was stopped");
    assert.match(agent.output(NS, pod), /got SIGTERM/);
    assert.deepEqual(await podsOf(name), []);
  });

  it("activeDeadlineSeconds: the Job Failed with DeadlineExceeded and its process was stopped", async () => {
    const name = await createJob(jobSpec(SLEEP, { activeDeadlineSeconds: 2 }));
    const { pid } = await runningPid(name);
    const { reason } = await jobCondition(name, "Failed");
    assert.equal(reason, "DeadlineExceeded");
    await waitFor("the process to stop", 15_000, () => (isAlive(pid) ? undefined : true));
  });

  it("an OOM kill: the container terminated with reason OOMKilled and exit code 137", async () => {
    const name = await createJob(jobSpec(SLEEP));
    const { pod } = await runningPid(name);
    await agent.oomKill(NS, pod);
    await jobCondition(name, "Failed");
    const [p] = await podsOf(name);
    assert.equal(p?.status?.containerStatuses?.[0]?.state?.terminated?.reason, "OOMKilled");
    assert.equal(p?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
    assert.deepEqual(agent.errors, []);
  });
});
