#!/usr/bin/env node
// The command of a Smelter worker container (Fargate, Kubernetes Jobs): runs the one attempt in
// SMELTER_TASK / SMELTER_TASK_URL with the workers of SMELTER_WORKER_MODULE, writes the reply to
// the envelope's resultUrl and exits 0 (docs/backends/remote.md).
import { runRemoteTask } from "../dist/src/remote-task.js";
process.exit(await runRemoteTask());
