/**
 * What a `threads` pool worker of the command line runs: the built-in workers, then the thread
 * bootstrap, in one module graph (started with no entry in its workerData, so the bootstrap imports
 * nothing more). `npm run build` bundles it into dist/src/bundle/builtin-threads.js
 * (scripts/bundle.mjs); see `builtinPoolScript` in src/cli/common.ts for when the command line
 * starts it.
 */
import "./builtin.js";
import "../task-runtime/bootstrap-thread.js";
