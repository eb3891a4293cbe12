/**
 * Printable ids for jobs, stages, tasks and attempts: `j7f3a-s01-t00042-a2`.
 * Stage, task and attempt numbers are 1-based for stages/attempts and 0-based for tasks,
 * zero-padded so that ids sort in launch order.
 */
import type { RuntimeContext } from "./runtime-context.js";

export interface AttemptIds {
  /** `j7f3a` */
  jobId: string;
  /** 1-based stage number */
  stage: number;
  /** 0-based task index within its stage */
  task: number;
  /** 1-based attempt number within its task (retries and speculative duplicates count) */
  attempt: number;
}

/** A new job id, `j` and five hex digits from the context's id source (reproducible under a seed). */
export function newJobId(context: Pick<RuntimeContext, "ids">): string {
  return `j${context.ids.hex(5)}`;
}

export function stageId(jobId: string, stage: number): string {
  return `${jobId}-s${String(stage).padStart(2, "0")}`;
}

export function taskId(jobId: string, stage: number, task: number): string {
  return `${stageId(jobId, stage)}-t${String(task).padStart(5, "0")}`;
}

export function attemptId(ids: AttemptIds): string {
  return `${taskId(ids.jobId, ids.stage, ids.task)}-a${ids.attempt}`;
}

const ATTEMPT_RE = /^(j[0-9a-z]+)-s(\d+)-t(\d+)-a(\d+)$/;

/** Parses `j7f3a-s01-t00042-a2`; returns undefined when the text is not an attempt id. */
export function parseAttemptId(text: string): AttemptIds | undefined {
  const m = ATTEMPT_RE.exec(text);
  if (!m) return undefined;
  return { jobId: m[1]!, stage: Number(m[2]), task: Number(m[3]), attempt: Number(m[4]) };
}
