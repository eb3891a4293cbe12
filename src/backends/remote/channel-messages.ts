/**
 * What a remote worker sends the manager while it runs (heartbeats and `ctx.log` lines), as
 * newline-delimited JSON, the same over HTTP (a POST body) and in the work store (one object per
 * batch); validated line by line with zod. The environment variables that tell the worker where
 * to send it are here too.
 */
import { z } from "zod";
import { formatZodIssues } from "../../job/policy.js";

/** The manager's channel server, e.g. `http://127.0.0.1:41234` (the worker POSTs to `<url>/attempts/<attemptId>/events`). */
export const CHANNEL_URL_ENV = "SMELTER_CHANNEL_URL";
/** The per-job token, sent as `Authorization: Bearer <token>`. */
export const CHANNEL_TOKEN_ENV = "SMELTER_CHANNEL_TOKEN";
/** The store channel's prefix (`<work><jobId>/channel/<attemptId>/`): where batches go when the server is out of reach (or not used). */
export const CHANNEL_PREFIX_ENV = "SMELTER_CHANNEL_PREFIX";
/** How often the worker sends a batch, ms (also sent at 64 KB). */
export const CHANNEL_FLUSH_ENV = "SMELTER_CHANNEL_FLUSH_MS";

/** A batch is sent once it holds this many bytes, whatever the timer. */
export const CHANNEL_BATCH_BYTES = 64 * 1024;
/** The largest POST body the server takes. */
export const CHANNEL_MAX_BODY_BYTES = 1024 * 1024;

export const channelMessageSchema = z.discriminatedUnion("t", [
  z.object({ t: z.literal("log"), stream: z.enum(["stdout", "stderr", "log"]), message: z.string() }),
  z.object({ t: z.literal("hb"), details: z.unknown() }),
]);
export type ChannelMessage = z.infer<typeof channelMessageSchema>;

export function encodeMessages(messages: readonly ChannelMessage[]): string {
  return messages.map((m) => `${JSON.stringify(m)}\n`).join("");
}

/** Parses a batch; throws an Error naming the bad line. */
export function decodeMessages(text: string): ChannelMessage[] {
  const out: ChannelMessage[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1} is not JSON (${(err as Error).message})`);
    }
    const r = channelMessageSchema.safeParse(json);
    if (!r.success) throw new Error(`line ${i + 1} is not a channel message (${formatZodIssues(r.error)})`);
    out.push(r.data);
  });
  return out;
}

const batchEndSchema = z.object({ t: z.literal("end"), n: z.number().int().min(0) });

/**
 * A store-channel batch: the messages, then an end line with their count. A reader can then tell
 * an object that is still being written (a server whose PUT is not atomic, as s3rver's is not:
 * a GET during the PUT reads a short file) from a whole batch.
 */
export function encodeBatch(messages: readonly ChannelMessage[]): string {
  return `${encodeMessages(messages)}${JSON.stringify({ t: "end", n: messages.length })}\n`;
}

/** Parses a store-channel batch: its messages, or undefined when it is not whole yet (no end line); throws an Error naming a bad line, or a count that does not match. */
export function decodeBatch(text: string): ChannelMessage[] | undefined {
  const body = text.trimEnd();
  const cut = body.lastIndexOf("\n");
  let end: z.infer<typeof batchEndSchema>;
  try {
    const r = batchEndSchema.safeParse(JSON.parse(body.slice(cut + 1)));
    if (!r.success) return undefined;
    end = r.data;
  } catch {
    return undefined; // the last line is cut short
  }
  const messages = decodeMessages(cut < 0 ? "" : body.slice(0, cut));
  if (messages.length !== end.n) throw new Error(`it holds ${messages.length} messages where its end line says ${end.n}`);
  return messages;
}
