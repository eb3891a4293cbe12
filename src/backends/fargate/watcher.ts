/**
 * Watches ECS tasks with one DescribeTasks call per 100 tasks per interval (ECS's own limit per
 * call), whatever the number of attempts: each watched task gets every new description, and its
 * watch ends when ECS says STOPPED. A throttled DescribeTasks doubles the interval (up to 16x)
 * until a call succeeds; a task ECS no longer knows is reported once as missing.
 */
import { DescribeTasksCommand, type ECSClient, type Task } from "@aws-sdk/client-ecs";
import type { Clock, TimerHandle } from "../../job/runtime-context.js";

export interface TaskWatch {
  /** Every description of the task, in order (the last one is STOPPED, or none when it went missing). */
  onUpdate(task: Task): void;
  /** ECS does not know the task (it stopped long ago, or the ARN is wrong). */
  onMissing(reason: string): void;
}

const BATCH = 100;
/** How often a task being stopped is described. */
const URGENT_MS = 100;

export class TaskWatcher {
  readonly #client: ECSClient;
  readonly #cluster: string;
  readonly #intervalMs: number;
  readonly #watches = new Map<string, TaskWatch>();
  /** Tasks being stopped: described every {@link URGENT_MS} until STOPPED. */
  readonly #urgent = new Set<string>();
  #clock: Clock;
  #timer: TimerHandle | undefined;
  #slowdown = 1;
  #polling = false;
  #closed = false;

  constructor(client: ECSClient, cluster: string, intervalMs: number, clock: Clock) {
    this.#client = client;
    this.#cluster = cluster;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  setClock(clock: Clock): void {
    this.#clock = clock;
  }

  watch(taskArn: string, watch: TaskWatch): () => void {
    this.#watches.set(taskArn, watch);
    this.#schedule(0);
    return () => {
      this.#watches.delete(taskArn);
      this.#urgent.delete(taskArn);
    };
  }

  /** Describes the watched tasks now, and `taskArn` often until it stops (a kill wants its confirmation early). */
  nudge(taskArn?: string): void {
    if (taskArn && this.#watches.has(taskArn)) this.#urgent.add(taskArn);
    this.#schedule(0);
  }

  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    for (const w of watches) w.onMissing("no longer watched: the backend was closed");
  }

  #schedule(ms: number): void {
    if (this.#closed || this.#polling || this.#watches.size === 0) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => void this.#poll(), ms);
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    this.#polling = true;
    try {
      const arns = [...this.#watches.keys()];
      for (let i = 0; i < arns.length; i += BATCH) {
        const batch = arns.slice(i, i + BATCH);
        const out = await this.#client.send(new DescribeTasksCommand({ cluster: this.#cluster, tasks: batch }));
        for (const task of out.tasks ?? []) if (task.taskArn) this.#watches.get(task.taskArn)?.onUpdate(task);
        for (const f of out.failures ?? []) {
          const watch = f.arn ? this.#watches.get(f.arn) : undefined;
          if (!watch || !f.arn) continue;
          this.#watches.delete(f.arn);
          this.#urgent.delete(f.arn);
          watch.onMissing(`${f.reason ?? "unknown"}${f.detail ? `: ${f.detail}` : ""}`);
        }
      }
      this.#slowdown = 1;
    } catch (err) {
      // Throttled or unreachable for a moment: describe less often; the watches stay.
      this.#slowdown = Math.min(16, this.#slowdown * 2);
      void err;
    } finally {
      this.#polling = false;
    }
    this.#schedule(this.#urgent.size > 0 && this.#slowdown === 1 ? Math.min(URGENT_MS, this.#intervalMs) : this.#intervalMs * this.#slowdown);
  }
}
