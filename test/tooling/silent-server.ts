/**
 * A TCP server on 127.0.0.1 that accepts every connection and never answers: the S3 endpoint
 * that "went silent". Counts the connections it held; `stop()` drops them all.
 */
import { createServer, type Socket } from "node:net";
import { listenOnLoopback } from "./listen.js";

export interface SilentServer {
  endpoint: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  stop(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    socket.resume(); // read and drop whatever is sent; never write
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
