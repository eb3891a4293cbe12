/**
 * A fault hook for the chaos suite (test/chaos/), off unless the test environment variable
 * `SMELTER_TEST_CHAOS_KILL="rate=0.3,seed=7"` is set, and only in a worker process of the
 * processes backend (a forked child: never the coordinator, never a thread): each attempt is,
 * with probability `rate` (drawn from the seed and the attempt id), killed by SIGKILL at one of
 * three points, as a machine dying would: `before` its function runs, `during` it (after a
 * random 0-300 ms; at its end at the latest), or `after` it returned, before its result is delivered. `points=after`
 * (or `before+during`...) limits the points drawn from.
 */
import { mulberry32 } from "../job/runtime-context.js";

export type ChaosPoint = "before" | "during" | "after";

interface ChaosPlan {
  point: ChaosPoint;
  delayMs: number;
}

/** The kill planned for this attempt, or undefined (no hook, not a worker process, or not drawn). */
export function chaosKill(attemptId: string, env: NodeJS.ProcessEnv = process.env): ChaosPlan | undefined {
  const spec = env.SMELTER_TEST_CHAOS_KILL;
  if (!spec || typeof process.send !== "function") return undefined;
  const rate = Number(/rate=([\d.]+)/.exec(spec)?.[1] ?? "0");
  const seed = Number(/seed=(\d+)/.exec(spec)?.[1] ?? "1");
  let h = seed >>> 0;
  for (let i = 0; i < attemptId.length; i++) h = Math.imul(h ^ attemptId.charCodeAt(i), 0x9e3779b1) >>> 0;
  const random = mulberry32(h);
  if (random() >= rate) return undefined;
  const allowed = /points=([a-z+]+)/.exec(spec)?.[1]?.split("+");
  const points = (["before", "during", "after"] as const).filter((p) => !allowed || allowed.includes(p));
  return { point: points[Math.floor(random() * points.length)] ?? "before", delayMs: Math.floor(random() * 300) };
}

/** Kills this process now, as an outside SIGKILL would. */
export function dieNow(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable: SIGKILL was sent");
}
