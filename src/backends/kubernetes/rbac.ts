/**
 * Least privilege for the kubernetes backend, generated:
 * - the manager's Role and RoleBinding in the job's namespace: Jobs (create, get, list, watch,
 *   delete), pods (get, list, watch), pods/log (get), and the namespace read by its check. Nothing
 *   cluster-wide, no secrets, no exec;
 * - the workers' ServiceAccount: no Kubernetes API access at all (its token is not even mounted);
 *   its cloud role (IRSA on EKS, Workload Identity elsewhere) holds the S3 policy below;
 * - the S3 IAM policy for that role: the job's inputs and work prefix (src/backends/s3-policy.ts,
 *   the same statements as Lambda's execution role).
 * Plain objects: `kubectl apply -f` them as JSON or YAML.
 */
import { s3AccessStatements, type IamPolicy } from "../s3-policy.js";

export interface KubernetesRbacOptions {
  namespace: string;
  /** Who runs `smelter` (the manager): a ServiceAccount in `namespace`, or a User (an IAM-mapped user, an OIDC name). */
  manager: { kind: "ServiceAccount"; name: string } | { kind: "User" | "Group"; name: string };
  /** The workers' ServiceAccount. @default "smelter-worker" */
  workerServiceAccount?: string;
  /** The role the workers' service account assumes (EKS IRSA annotation), when known. */
  workerRoleArn?: string;
}

export interface KubernetesRbac {
  role: Record<string, unknown>;
  roleBinding: Record<string, unknown>;
  workerServiceAccount: Record<string, unknown>;
}

/** The manager's namespaced permissions, as the backend uses them. */
export const MANAGER_RULES = [
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
];

export function kubernetesRbac(o: KubernetesRbacOptions): KubernetesRbac {
  const name = "smelter-manager";
  const worker = o.workerServiceAccount ?? "smelter-worker";
  const subject = o.manager.kind === "ServiceAccount" ? { kind: "ServiceAccount", name: o.manager.name, namespace: o.namespace } : { kind: o.manager.kind, name: o.manager.name, apiGroup: "rbac.authorization.k8s.io" };
  return {
    role: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: o.namespace }, rules: MANAGER_RULES },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace: o.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [subject],
    },
    workerServiceAccount: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: worker, namespace: o.namespace, ...(o.workerRoleArn ? { annotations: { "eks.amazonaws.com/role-arn": o.workerRoleArn } } : {}) },
      automountServiceAccountToken: false,
    },
  };
}

/** The S3 policy of the workers' cloud role: read the inputs, read and write the job's work prefix. */
export function kubernetesWorkerIamPolicy(o: { work: string; inputs?: string[] }): IamPolicy {
  return { Version: "2012-10-17", Statement: s3AccessStatements(o) };
}
