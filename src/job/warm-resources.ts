/**
 * What a worker keeps open across tasks (a DuckDB database, stores with pooled connections) and
 * closes when it ends. Whatever opens such a thing registers how to close it here; a pool worker
 * that is asked to stop (the pool's `close()`) runs every registered close before it exits on its
 * own (task-runtime/runtime.ts `serveTasks`). A worker thread terminated with a native DuckDB
 * still open could abort the whole process, so the threads backend stops its threads this way and
 * terminates one only when it does not end within its grace.
 *
 * One registry per thread (module state is per thread). No I/O here.
 */

/** Closes one warm resource; may be async. */
export type WarmResourceCloser = () => void | Promise<void>;

const closers = new Set<WarmResourceCloser>();

/** Registers `close` to run when this worker ends; returns a function that unregisters it (call it when the resource is closed earlier). */
export function closeAtWorkerEnd(close: WarmResourceCloser): () => void {
  closers.add(close);
  return () => {
    closers.delete(close);
  };
}

/**
 * Runs every registered close, the latest registered first, one at a time, and forgets them.
 * Never throws: returns the errors of the closes that failed, so the caller can report them.
 */
export async function closeWarmResources(): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const close of [...closers].reverse()) {
    closers.delete(close);
    try {
      await close();
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}
