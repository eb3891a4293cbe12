/**
 * The script a `processes` pool worker starts with (child_process.fork of this file, with
 * `SMELTER_TASK=pool` in its environment and the entry module as argv[2]). It imports the entry
 * module, which registers workers with `defineWorker` (its `runMain` call does nothing in a pool
 * worker), then serves tasks over the IPC channel one at a time (see `serveTasks` in runtime.ts).
 * It exits when the manager goes away.
 */
import { serveTasks, type ToWorkerMessage } from "./runtime.js";

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write("[smelter] bootstrap-process.js runs only as a child forked by the processes backend (it needs an IPC channel)\n");
  process.exit(1);
}
process.env.SMELTER_TASK = "pool";
process.on("disconnect", () => process.exit(0));

void serveTasks(
  {
    send: (message) => {
      send(message, undefined, undefined, (err: Error | null) => {
        if (err) process.exit(1);
      });
    },
    onMessage: (handler) => process.on("message", (m: ToWorkerMessage) => handler(m)),
    exit: () => process.exit(0),
  },
  process.argv[2],
  { endMarkers: true },
);
