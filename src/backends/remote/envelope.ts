/**
 * The manager side of passing an attempt's envelope to a remote worker: inline when small, else
 * written to the job's work store (next to the attempt's result) and passed by URL; the result
 * URL always set when a store is known; and one `cleanup()` that removes what the attempt left
 * (the staged envelope, the reply). Lambda (request payload) and the container backends
 * (environment variables) share it.
 */
import type { TaskEnvelope } from "../../job/attempt.js";
import { ConfigError } from "../../job/errors.js";
import { registerJobObjects } from "./job-objects.js";
import { attemptResultUrl, envelopeUrlFor } from "./keys.js";
import type { RemoteObjects, RemoteStore } from "./store.js";

/** The container's environment variable with the envelope as JSON (small envelopes). */
export const TASK_ENV = "SMELTER_TASK";
/** The container's environment variable with the envelope's object URL (large envelopes). */
export const TASK_URL_ENV = "SMELTER_TASK_URL";

/**
 * Envelopes up to this many bytes of JSON go inline in `SMELTER_TASK`. ECS caps a RunTask's
 * container overrides at 8,192 characters in all, and a pod spec lives in etcd: small keeps both safe.
 */
export const DEFAULT_INLINE_ENVELOPE_BYTES = 4096;

export interface StagedEnvelope {
  /** The envelope as sent: the given one, with `resultUrl` filled in when a store is known. */
  envelope: TaskEnvelope;
  resultUrl: string | undefined;
  /** Set when the envelope was too large to pass inline: where it was written. */
  envelopeUrl: string | undefined;
  /** Deletes the staged envelope and, with `{ reply: true }`, the object at `resultUrl`. Never throws. */
  cleanup(o?: { reply?: boolean }): Promise<void>;
}

export interface StageEnvelopeOptions {
  envelope: TaskEnvelope;
  /** The job's (or backend's) work store; without it, an envelope over the limit is refused. */
  store: RemoteStore | undefined;
  /** The largest envelope passed inline, bytes of JSON. */
  inlineLimit: number;
  /** What carries it, for messages: `Lambda's request`, `the container's environment`. */
  carrier: string;
}

/** Fills in the result URL and writes the envelope to the store when over `inlineLimit`. Throws ConfigError when it is too large and there is no store. */
export async function stageEnvelope(o: StageEnvelopeOptions): Promise<StagedEnvelope> {
  const resultUrl = attemptResultUrl(o.envelope, o.store?.url);
  // Whatever this attempt leaves there goes with the job's temporaries (job-objects.ts).
  if (resultUrl) registerJobObjects(resultUrl, o.envelope.jobId);
  const envelope: TaskEnvelope = resultUrl ? { ...o.envelope, resultUrl } : o.envelope;
  const text = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(text);
  let envelopeUrl: string | undefined;
  if (bytes > o.inlineLimit) {
    if (!resultUrl || !o.store) {
      throw new ConfigError(`the envelope of attempt ${envelope.attemptId} is ${bytes} bytes, over the ${o.inlineLimit} bytes ${o.carrier} carries, and there is no work store to pass it through: give the job a work store (--work s3://...) or the backend a store`);
    }
    envelopeUrl = envelopeUrlFor(resultUrl);
    await o.store.write(envelopeUrl, text);
  }
  const store = o.store;
  return {
    envelope,
    resultUrl,
    envelopeUrl,
    async cleanup(c = {}) {
      if (!store) return;
      const urls = [envelopeUrl, c.reply ? resultUrl : undefined].filter((u): u is string => u !== undefined);
      await Promise.all(urls.map((u) => store.delete(u).catch(() => undefined)));
    },
  };
}

export interface RemoteEnvelopeOptions {
  envelope: TaskEnvelope;
  /** The job's work store (or the backend's own): where the reply, and a large envelope, go. Required: a container answers only through it. */
  store: RemoteStore | undefined;
  /** @default {@link DEFAULT_INLINE_ENVELOPE_BYTES} */
  inlineLimit?: number;
}

export interface RemoteEnvelope {
  /** The environment to give the container (`SMELTER_TASK` or `SMELTER_TASK_URL`); add `SMELTER_WORKER_MODULE` and the channel's variables. */
  env: Record<string, string>;
  /** The envelope as sent (with its `resultUrl`). */
  envelope: TaskEnvelope;
  /** Where the container writes its reply: read it with `readRemoteReply(store, resultUrl, attemptId)`. */
  resultUrl: string;
  /** Deletes the staged envelope and the reply. Call it once the attempt is over (read or given up). Never throws. */
  cleanup(): Promise<void>;
}

/** The container-backend form of {@link stageEnvelope}: the envelope as environment variables, and a store required. */
export async function remoteEnvelope(o: RemoteEnvelopeOptions): Promise<RemoteEnvelope> {
  const staged = await stageEnvelope({ envelope: o.envelope, store: o.store, inlineLimit: o.inlineLimit ?? DEFAULT_INLINE_ENVELOPE_BYTES, carrier: "the container's environment" });
  if (!staged.resultUrl) {
    throw new ConfigError(`attempt ${o.envelope.attemptId} has nowhere to write its reply: a container backend needs the job's work store (--work s3://bucket/prefix/) or a store of its own`);
  }
  const env: Record<string, string> = staged.envelopeUrl ? { [TASK_URL_ENV]: staged.envelopeUrl } : { [TASK_ENV]: JSON.stringify(staged.envelope) };
  return { env, envelope: staged.envelope, resultUrl: staged.resultUrl, cleanup: () => staged.cleanup({ reply: true }) };
}

/** The far side: the envelope from `SMELTER_TASK` (JSON) or `SMELTER_TASK_URL` (read through `objects`). Throws with a clear message. */
export async function envelopeFromEnv(env: Record<string, string | undefined>, objects: Pick<RemoteObjects, "read">): Promise<TaskEnvelope> {
  const inline = env[TASK_ENV];
  const url = env[TASK_URL_ENV];
  let text: string;
  if (url) {
    try {
      text = await objects.read(url);
    } catch (err) {
      throw new ConfigError(`could not read the envelope at ${TASK_URL_ENV}=${url} (${(err as Error)?.message ?? String(err)}): the worker's role must be allowed to read the job's work prefix`, { cause: err });
    }
  } else if (inline && inline.trimStart().startsWith("{")) {
    text = inline;
  } else {
    throw new ConfigError(`neither ${TASK_ENV} (the attempt's envelope as JSON) nor ${TASK_URL_ENV} is set: this entry is started by a remote backend (Fargate, Kubernetes), which sets them`);
  }
  try {
    return JSON.parse(text) as TaskEnvelope;
  } catch (err) {
    throw new ConfigError(`the envelope (${url ? url : TASK_ENV}) is not JSON (${(err as Error).message}): the manager and the worker may run different Smelter versions`, { cause: err });
  }
}
