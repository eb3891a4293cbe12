/**
 * The built-in workers for a pool whose processes write CPU profiles (`bench query2
 * --worker-cpu-prof`): a pool worker is stopped with SIGTERM, which would end it before
 * `--cpu-prof` writes its profile, so it exits normally instead.
 */
import "../src/builtin-workers/builtin.js";

process.once("SIGTERM", () => process.exit(0));
