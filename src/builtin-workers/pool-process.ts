/**
 * What a `processes` pool worker of the command line runs: the built-in workers, then the
 * process bootstrap, in one module graph (forked with no entry argument, so the bootstrap imports
 * nothing more). `npm run build` bundles this graph into one file, dist/src/bundle/builtin-processes.js
 * (scripts/bundle.mjs), which a worker loads faster than the same ~190 modules one by one;
 * see `builtinPoolScript` in src/cli/common.ts for when the command line forks it.
 */
import "./builtin.js";
import "../task-runtime/bootstrap-process.js";
