/** `smelter/backends/kubernetes`: the Kubernetes Jobs backend, its settings schema, RBAC/IAM generators and cost estimate. */
export { kubernetesBackend, type KubernetesBackend, type KubernetesBackendOptions, type KubernetesChannel } from "./backend.js";
export { kubernetesSettingsSchema, type KubernetesSettings } from "./settings.js";
export { kubernetesRbac, kubernetesWorkerIamPolicy, MANAGER_RULES, type KubernetesRbacOptions } from "./rbac.js";
export { kubernetesAttemptCost, kubernetesPricesSchema, type KubernetesPrices } from "./cost.js";
