/**
 * Per-stage totals gathered from a job's events: attempts, retries, speculation, capacity
 * refusals, abandoned kills, time, CPU, memory and the tasks' counters (bytes and requests to
 * storage). Attach to a live job before it runs, or rebuild from an events file
 * (`JobStats.fromEvents(parseEvents(text))`).
 */
import type { SmelterEvent } from "../job/events.js";

export interface StageTotals {
  stage: number;
  name: string;
  tasks: number;
  attempts: number;
  failedAttempts: number;
  cancelledAttempts: number;
  retries: number;
  speculative: number;
  /** Speculative duplicates that finished first. */
  speculativeWon: number;
  /** Launches the backend had no capacity for. */
  noCapacity: number;
  /** Attempts whose kill could not be confirmed. */
  abandonedAttempts: number;
  /** From the stage's first launch to its last success, ms. */
  elapsedMs: number;
  /** Sum of the winning attempts' wall times, ms. */
  taskWallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  counters: Record<string, number>;
}

export class JobStats {
  readonly stages = new Map<number, StageTotals & { firstLaunch?: number; lastDone?: number }>();
  #off: () => void;
  #speculative = new Set<string>();

  /** Follows a live job's events (`job.events`), or starts empty (feed it with `add`). */
  constructor(job?: { events: { on(l: (e: SmelterEvent) => void): () => void } }) {
    this.#off = job ? job.events.on((e) => this.add(e)) : () => {};
  }

  /** Rebuilds the totals from recorded events (an events file): no live job needed. */
  static fromEvents(events: Iterable<SmelterEvent>): JobStats {
    const stats = new JobStats();
    for (const e of events) stats.add(e);
    return stats;
  }

  stop(): void {
    this.#off();
  }

  /** Totals per stage, in stage order. */
  totals(): StageTotals[] {
    return [...this.stages.values()]
      .sort((a, b) => a.stage - b.stage)
      .map(({ firstLaunch, lastDone, ...t }) => ({ ...t, elapsedMs: firstLaunch !== undefined && lastDone !== undefined ? lastDone - firstLaunch : 0 }));
  }

  #stage(e: { stage: number; stageName: string }) {
    let s = this.stages.get(e.stage);
    if (!s) {
      s = { stage: e.stage, name: e.stageName, tasks: 0, attempts: 0, failedAttempts: 0, cancelledAttempts: 0, retries: 0, speculative: 0, speculativeWon: 0, noCapacity: 0, abandonedAttempts: 0, elapsedMs: 0, taskWallMs: 0, cpuMs: 0, peakRssBytes: 0, counters: {} };
      this.stages.set(e.stage, s);
    }
    return s;
  }

  add(e: SmelterEvent): void {
    switch (e.type) {
      case "task-queued":
        this.#stage(e).tasks++;
        break;
      case "attempt-launched": {
        const s = this.#stage(e);
        s.attempts++;
        s.firstLaunch ??= e.time;
        if (e.cause === "retry") s.retries++;
        if (e.cause === "speculation") {
          s.speculative++;
          this.#speculative.add(e.attemptId);
        }
        break;
      }
      case "attempt-failed":
        this.#stage(e).failedAttempts++;
        break;
      case "attempt-cancelled":
        this.#stage(e).cancelledAttempts++;
        break;
      case "attempt-no-capacity":
        this.#stage(e).noCapacity++;
        break;
      case "attempt-abandoned":
        this.#stage(e).abandonedAttempts++;
        break;
      case "attempt-succeeded": {
        const s = this.#stage(e);
        s.cpuMs += e.stats.cpuUserMs + e.stats.cpuSystemMs;
        s.peakRssBytes = Math.max(s.peakRssBytes, e.stats.peakRssBytes);
        if (!e.won) break;
        s.lastDone = e.time;
        s.taskWallMs += e.stats.wallMs;
        if (this.#speculative.has(e.attemptId)) s.speculativeWon++;
        for (const [k, v] of Object.entries(e.stats.counters)) s.counters[k] = (s.counters[k] ?? 0) + v;
        break;
      }
    }
  }
}

/** A plain-text table of stage totals. */
export function formatStageTotals(totals: StageTotals[]): string {
  const rows = [["stage", "tasks", "attempts", "retries", "speculative (won)", "failed", "elapsed", "task time", "cpu", "peak rss", "read"]];
  for (const t of totals) {
    rows.push([
      t.name,
      String(t.tasks),
      String(t.attempts),
      String(t.retries),
      `${t.speculative} (${t.speculativeWon})`,
      String(t.failedAttempts),
      seconds(t.elapsedMs),
      seconds(t.taskWallMs),
      seconds(t.cpuMs),
      bytes(t.peakRssBytes),
      bytes(t.counters.bytesRead ?? 0),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
