/**
 * Stores opened by URL and kept for a worker's life (warm workers: S3 clients reuse their
 * connections across tasks). No DuckDB here, so workers that do not use it never load it.
 */
import type { ObjectStore } from "./contract.js";
import { openRootStore } from "./url.js";

const stores = new Map<string, Promise<ObjectStore>>();

/** The store at a root URL (`store.url`), opened once per worker; a failed open is retried next time. */
export function cachedStore(url: string): Promise<ObjectStore> {
  let s = stores.get(url);
  if (!s) {
    s = openRootStore(url);
    s.catch(() => stores.delete(url));
    stores.set(url, s);
  }
  return s;
}
