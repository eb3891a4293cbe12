/**
 * A hook on every call a store made by {@link defineStore} answers: when an observer is set (the
 * task runtime sets one while a traced attempt runs, src/task-runtime/storage-spans.ts), each call
 * tells it its operation, store and key, and then how it ended (bytes moved, or the error).
 * Without an observer a call costs one check. It lives in job/ so that both the storage layer and the task runtime may import it; neither imports anything of tracing.
 */
export interface StorageCall {
  /** `get`, `put`, `head`, `delete`, `getStream`, `putStream`, `list` */
  op: string;
  /** The store's URL (`s3://bucket/prefix/`, `file:///data/`). */
  url: string;
  /** The object key, or the listed prefix. */
  key: string;
}

/** Returns how to report the call's end, or undefined to leave the call unobserved. */
export type StorageCallObserver = (call: StorageCall) => ((end: { bytes?: number; error?: unknown }) => void) | undefined;

let observer: StorageCallObserver | undefined;

/** Sets (or with undefined, clears) the process's storage call observer. */
export function setStorageCallObserver(o: StorageCallObserver | undefined): void {
  observer = o;
}

/** True while an observer is set. */
export function isObserving(): boolean {
  return observer !== undefined;
}

/** Runs one call under the observer. `bytes` says how many bytes its result moved. */
export async function observeCall<T>(call: StorageCall, run: () => Promise<T>, bytes?: (result: T) => number | undefined): Promise<T> {
  const end = observer?.(call);
  if (!end) return run();
  try {
    const result = await run();
    end({ bytes: bytes?.(result) });
    return result;
  } catch (error) {
    end({ error });
    throw error;
  }
}

/** Observes a streamed call (a download, a listing) from its first pull to its end; `size` measures each item. */
export async function* observeStream<T>(call: StorageCall, items: () => AsyncIterable<T>, size: (item: T) => number): AsyncIterable<T> {
  const end = observer?.(call);
  if (!end) return yield* items();
  let bytes = 0;
  let error: unknown;
  try {
    for await (const item of items()) {
      bytes += size(item);
      yield item;
    }
  } catch (err) {
    error = err;
    throw err;
  } finally {
    end(error === undefined ? { bytes } : { bytes, error });
  }
}
