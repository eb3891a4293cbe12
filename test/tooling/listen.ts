/** Starts a server on 127.0.0.1 on a free port; resolves with the port. */
import { once } from "node:events";
import type { Server } from "node:net";

export async function listenOnLoopback(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const addr = server.address();
  return typeof addr === "object" && addr ? addr.port : 0;
}
