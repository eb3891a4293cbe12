/**
 * The fargate backend against moto's ECS API with the task agent (test/tooling/moto-ecs.ts,
 * set up by ./fargate-setup.ts): every RunTask runs Smelter's real container entry
 * (bin/smelter-task.js) as a local process with the test workers; replies go through the embedded
 * S3 server. The shared backend conformance suite; the rest is in fargate-ecs.test.ts.
 */
import { backendWith } from "./fargate-setup.js";
import { runBackendConformance } from "./conformance.js";

runBackendConformance("fargate", () => backendWith(), {
  crash: true,
  killHung: true,
  stdio: "a task's stdout and stderr go to its log configuration (CloudWatch Logs), not back to the manager; ctx.log lines do",
  warm: "each attempt is its own ECS task: every start is cold",
});

