/**
 * Stores opened by URL and kept for a worker's life (warm workers: S3 clients reuse their
 * connections across tasks), closed when the worker ends (job/warm-resources.ts). No DuckDB here,
 * so workers that do not use it never load it.
 */
import { closeAtWorkerEnd } from "../job/warm-resources.js";
import type { ObjectStore } from "./contract.js";
import { openRootStore } from "./url.js";

const stores = new Map<string, Promise<ObjectStore>>();

/** Closes every cached store and forgets them (the next `cachedStore` opens anew). */
async function closeCachedStores(): Promise<void> {
  const opening = [...stores.values()];
  stores.clear();
  const opened = await Promise.allSettled(opening); // one that failed to open has nothing to close
  await Promise.all(opened.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
}

/** The store at a root URL (`store.url`), opened once per worker; a failed open is retried next time. */
export function cachedStore(url: string): Promise<ObjectStore> {
  let s = stores.get(url);
  if (!s) {
    s = openRootStore(url);
    s.catch(() => stores.delete(url));
    stores.set(url, s);
    closeAtWorkerEnd(closeCachedStores); // a set: registered once however many stores open
  }
  return s;
}
