/** `smelter/backends/kubernetes`: the Kubernetes Jobs backend, its settings schema and RBAC/IAM generators. */
export { kubernetesBackend, type KubernetesBackend, type KubernetesBackendOptions } from "./backend.js";
export { kubernetesSettingsSchema, type KubernetesSettings } from "./settings.js";
export { kubernetesRbac, kubernetesWorkerIamPolicy, MANAGER_RULES, type KubernetesRbacOptions } from "./rbac.js";
