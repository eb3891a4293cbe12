/**
 * The live channel of a remote backend (Fargate, Kubernetes) as settings: heartbeats and log lines
 * while tasks run (docs/backends/remote.md). One schema for both backends' settings, and the one
 * way a backend opens its channel from them: once, on its first attempt, closed with the backend.
 */
import { z } from "zod";
import type { RuntimeContext } from "../job/runtime-context.js";
import { openRemoteChannel, type RemoteChannel } from "./remote/channel.js";
import type { RemoteObjects } from "./remote/store.js";

/**
 * `auto` (HTTP to the manager, the work store when a task cannot reach it), `http`, `store`, or
 * `off` (they come with the reply only). A worker in the cloud cannot reach the manager's
 * loopback: give `host` (e.g. 0.0.0.0) and `advertiseUrl` (an address the tasks can dial), or let
 * `auto` fall back to the store.
 */
export const channelSettingsSchema = z.strictObject({
  transport: z.enum(["auto", "http", "store", "off"], { message: "channel.transport must be auto, http, store or off" }).default("auto"),
  host: z.string().min(1).optional(),
  advertiseUrl: z.url({ message: "channel.advertiseUrl must be a URL such as http://10.0.0.5:7070" }).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  /** How often the manager reads a task's store batches, ms. @default 2000 */
  pollMs: z.number().int().min(10).optional(),
  /** How often a task sends a batch, ms. @default 250 over HTTP, 2000 to the store */
  flushMs: z.number().int().min(10).optional(),
});
export type ChannelSettings = z.output<typeof channelSettingsSchema>;

/** The backend's channel from its settings: opened on the first `get()` (undefined when `off`), closed by `close()`. */
export function lazyChannel(c: ChannelSettings, store: RemoteObjects, context: () => RuntimeContext): { get(): Promise<RemoteChannel> | undefined; close(): Promise<void> } {
  let channel: Promise<RemoteChannel> | undefined;
  return {
    get() {
      if (c.transport === "off") return undefined;
      channel ??= openRemoteChannel({
        context: context(),
        transport: c.transport,
        store,
        ...(c.host ? { host: c.host } : {}),
        ...(c.port !== undefined ? { port: c.port } : {}),
        ...(c.advertiseUrl ? { advertiseUrl: c.advertiseUrl } : {}),
        ...(c.pollMs ? { pollMs: c.pollMs } : {}),
        ...(c.flushMs ? { flushMs: c.flushMs } : {}),
      });
      return channel;
    },
    async close() {
      await (await channel?.catch(() => undefined))?.close();
    },
  };
}
