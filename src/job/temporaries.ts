/**
 * What a running job has created that must go when it ends: its work prefix (shuffle segments,
 * manifests, split lists), open multipart uploads with their staging prefixes, local temp
 * directories. Each piece is registered when it comes to exist and released once it is removed;
 * whatever is still registered when the process ends was left behind, and the CLI says so with
 * the `smelter clean` command that removes it later (src/cli/leftovers.ts, src/cli/clean.ts).
 *
 * One registry per process (a coordinator runs its jobs' cleanups itself). No I/O here.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The local directory of a job's temporary files on this machine: `<tmpdir>/smelter-jobs/<jobId>/`.
 * Each attempt's files go in a directory under it (`attemptTempDir`), so the coordinator of a
 * local backend removes what an attempt killed from outside could not (its workers share this
 * machine's temp dir); a remote worker's is its own, gone with it.
 */
export function jobTempDir(jobId: string): string {
  return join(tmpdir(), "smelter-jobs", jobId);
}

export type Temporary =
  /** Every object under `prefix` (ending in `/`) of the store at root URL `store` (s3://bucket, file:///tmp/smelter-work/). */
  | { kind: "prefix"; store: string; prefix: string }
  /** An open multipart upload of object `key` in the store at `store`, and its staging prefix in the same store. */
  | { kind: "upload"; store: string; key: string; uploadId: string; staging: string }
  /** A local directory (removed with everything in it). */
  | { kind: "dir"; path: string };

/** `s3://bucket` + `a/b/` -> `s3://bucket/a/b/`. */
export function joinUrl(store: string, key: string): string {
  return `${store.replace(/\/+$/, "")}/${key}`;
}

type Listener = (items: readonly Temporary[]) => void;

export class Temporaries {
  #items: Temporary[] = [];
  #listeners = new Set<Listener>();
  #byJob = new Map<string, { temporary: Temporary; release: () => void }[]>();

  /** Registers `t`; returns the function that releases it (call it once `t` is removed). */
  add(t: Temporary): () => void {
    this.#items.push(t);
    this.#changed();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = this.#items.indexOf(t);
      if (i >= 0) this.#items.splice(i, 1);
      this.#changed();
    };
  }

  /**
   * Registers `t` as made for job `jobId` by a part that does not see the job end (a remote
   * backend's envelopes, replies and channel batches): the job's own cleanup removes it with its
   * work prefix (runStages: {@link ofJob}). The same temporary registered again while registered is one.
   */
  addForJob(jobId: string, t: Temporary): void {
    const mine = this.#byJob.get(jobId) ?? [];
    if (mine.some((m) => JSON.stringify(m.temporary) === JSON.stringify(t))) return;
    const release = this.add(t);
    const entry = {
      temporary: t,
      release: () => {
        release();
        const list = this.#byJob.get(jobId)?.filter((m) => m !== entry) ?? [];
        if (list.length > 0) this.#byJob.set(jobId, list);
        else this.#byJob.delete(jobId);
      },
    };
    this.#byJob.set(jobId, [...mine, entry]);
  }

  /** The temporaries registered for `jobId` with {@link addForJob} and not yet released, with the functions that release them. */
  ofJob(jobId: string): { temporary: Temporary; release: () => void }[] {
    return [...(this.#byJob.get(jobId) ?? [])];
  }

  /** What is registered now, oldest first. */
  list(): readonly Temporary[] {
    return [...this.#items];
  }

  /** Calls `f` on every change; returns the function that stops it. */
  onChange(f: Listener): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  #changed(): void {
    for (const f of this.#listeners) {
      try {
        f(this.list());
      } catch {
        // a listener's failure (say, a record file that cannot be written) must not stop a cleanup
      }
    }
  }
}

/** This process's registry. */
export const temporaries = new Temporaries();

/** One line per temporary, for messages: `the work prefix s3://b/_smelter/jobs/j1/` ... */
export function describeTemporary(t: Temporary): string {
  if (t.kind === "prefix") return `the objects under ${joinUrl(t.store, t.prefix)}`;
  if (t.kind === "upload") return `the open multipart upload ${t.uploadId} of ${joinUrl(t.store, t.key)} and its staging objects under ${joinUrl(t.store, t.staging)}`;
  return `the local directory ${t.path}`;
}

/**
 * Runs `remove` and releases `t` when it succeeds; when it fails, `t` stays registered (left
 * behind) and the error is returned, not thrown: a cleanup never hides the job's own error.
 */
export async function removeTemporary(release: () => void, remove: () => Promise<unknown>): Promise<unknown> {
  try {
    await remove();
    release();
    return undefined;
  } catch (err) {
    return err;
  }
}
