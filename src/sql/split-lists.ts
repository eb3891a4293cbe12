/**
 * Split lists in task payloads. A task's input is small JSON (at most 1 MiB), but a broadcast
 * table's whole split list goes to every task of its stage: a few thousand files are enough to
 * pass the limit, and even below it every task would carry the same list. A broadcast list whose
 * JSON is longer than `inlineBytes` (64 KiB) is therefore written ONCE as a JSON object under the
 * job's work prefix (deleted with it) and the payloads carry a reference; a task fetches it from
 * the work store, validates it, and keeps it for the rest of the job (once per worker, not per
 * task). A task's own splits stay inline up to 8 x `inlineBytes` (packing already bounds them at
 * 1,000 splits, ~250 KiB); a longer list (very long keys) is written for that task alone.
 */
import { z } from "zod";
import { ValidationError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import { splitSchema, type Split } from "../splits/split.js";
import { cachedStore } from "../storage/cache.js";
import type { ObjectStore } from "../storage/contract.js";

/** Broadcast lists up to this many bytes of JSON ride in the payloads. @default 64 KiB */
export const INLINE_SPLIT_LIST_BYTES = 64 * 1024;
/** A task's own list rides inline up to this many times `inlineBytes`. */
const OWN_LIST_FACTOR = 8;

const splitListRefSchema = z.strictObject({
  /** Root URL of the work store. */
  storeUrl: z.string().min(1),
  /** The object holding `{ splits: [...] }`, under the job's work prefix. */
  key: z.string().min(1),
  /** How many splits it holds (checked when read back). */
  count: z.number().int().min(0),
});

/** A payload's split list: the splits themselves, or where the coordinator wrote them. */
export const splitListSchema = z.union([z.array(splitSchema), z.strictObject({ ref: splitListRefSchema })]);
export type SplitList = z.infer<typeof splitListSchema>;

const storedSchema = z.strictObject({ splits: z.array(splitSchema) });

/** The coordinator's side: turns split lists into what payloads carry, writing long ones once. */
export class SplitListWriter {
  readonly #written = new WeakMap<Split[], Promise<SplitList>>();
  #next = 0;

  constructor(
    readonly store: ObjectStore,
    readonly inlineBytes = INLINE_SPLIT_LIST_BYTES,
  ) {}

  /**
   * `splits` as a payload of a job whose work prefix is `prefix` carries them: inline, or a
   * reference. `broadcast`: the same list goes to every task (written once per array).
   */
  list(splits: Split[], prefix: string, broadcast: boolean): Promise<SplitList> {
    let out = this.#written.get(splits);
    if (!out) {
      out = this.#write(splits, prefix, broadcast ? this.inlineBytes : OWN_LIST_FACTOR * this.inlineBytes);
      this.#written.set(splits, out);
    }
    return out;
  }

  async #write(splits: Split[], prefix: string, inlineBytes: number): Promise<SplitList> {
    const body = JSON.stringify({ splits });
    if (body.length - '{"splits":}'.length <= inlineBytes) return splits;
    const key = `${prefix}inputs/splits-${String(this.#next++).padStart(5, "0")}.json`;
    await this.store.put(key, new TextEncoder().encode(body), { contentType: "application/json" });
    return { ref: { storeUrl: this.store.url, key, count: splits.length } };
  }
}

/** Fetched lists, by store and key (keys hold the job's id, so one entry serves one job); the last few kept. */
const fetched = new Map<string, Promise<Split[]>>();
const KEEP = 8;

/** The task's side: the splits of a payload's list, fetched once per worker when it is a reference. */
export function readSplitList(list: SplitList): Promise<Split[]> {
  if (Array.isArray(list)) return Promise.resolve(list);
  const { storeUrl, key, count } = list.ref;
  const id = `${storeUrl}\u0000${key}\u0000${count}`;
  let splits = fetched.get(id);
  if (!splits) {
    splits = fetchList(storeUrl, key, count);
    splits.catch(() => fetched.delete(id));
    fetched.set(id, splits);
    for (const old of fetched.keys()) if (fetched.size > KEEP) fetched.delete(old);
  }
  return splits;
}

async function fetchList(storeUrl: string, key: string, count: number): Promise<Split[]> {
  const bytes = await (await cachedStore(storeUrl)).get(key);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ValidationError(`split list ${key} in ${storeUrl} is not JSON: the job's work prefix was changed by something else; rerun the query`, { cause: err });
  }
  const r = storedSchema.safeParse(json);
  if (!r.success) throw new ValidationError(`split list ${key} in ${storeUrl} is malformed (${formatZodIssues(r.error)}): rerun the query`);
  if (r.data.splits.length !== count) throw new ValidationError(`split list ${key} in ${storeUrl} holds ${r.data.splits.length} splits, not ${count}: rerun the query`);
  return r.data.splits;
}
