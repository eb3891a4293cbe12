#!/usr/bin/env node
// Bundles, after tsc, what the command line's processes load at their start, with esbuild:
// - dist/src/bundle/builtin-processes.js and builtin-threads.js: one file each, the built-in
//   workers and the process or thread bootstrap (dist/src/builtin-workers/pool-process.js,
//   pool-thread.js), which `--backend processes` forks and `--backend threads` starts;
// - dist/src/bundle/smelter.js and its chunks: the command line (dist/src/cli/main.js), one chunk
//   per command module and per lazily loaded part, which bin/smelter.js runs.
// Node resolves, reads and links each ES module on its own: one file instead of ~190 modules
// (zod alone is ~95) makes a pool worker ready ~85 CPU-ms sooner and `smelter query2 --help` run
// in ~0.19 CPU-s instead of ~0.28 (docs/performance.md, cold).
//
// Bundled: Smelter's own modules and the pure-ESM packages they import at start (zod, hyparquet,
// csv-parse, p-limit). Left to Node: DuckDB (a native addon), the AWS SDK, the CommonJS packages
// and every other dependency; they resolve from dist/src/bundle/ as from any module in dist/src.
// The bundle sits one level under dist/src, as the modules do, so that the URLs Smelter makes
// relative to `import.meta.url` ("../task-runtime/bootstrap-process.js") name the same files.
// Each bundle is used only while it is newer than the module it starts from (a `tsc` alone since
// leaves the processes on the modules: the same code, started more slowly).
//
//   node scripts/bundle.mjs        (run by `npm run build` after tsc)
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const repo = new URL("..", import.meta.url);
const path = (p) => new URL(p, repo).pathname;
const pkg = JSON.parse(readFileSync(path("package.json"), "utf8"));
const BUNDLED = new Set(["zod", "hyparquet", "csv-parse", "p-limit"]);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);
// zod's `z` namespace re-exports its ~50 locales (`z.locales`), which no bundle can then drop:
// ~400 KB of the ~750 KB every process parsed at its start. Smelter reads no locale but English
// (which zod configures itself from its own module), so `z.locales` holds English only here.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/][^\\/]+\.js$/.test(args.importer) ? { path: "zod-locales", namespace: "zod-english-only", pluginData: dirname(args.importer) } : undefined));
    b.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({ contents: 'export { default as en } from "../locales/en.js";\n', resolveDir: args.pluginData, loader: "js" }));
  },
};
const common = { bundle: true, platform: "node", format: "esm", target: "node20", external, logLevel: "warning", write: false, plugins: [zodEnglishOnly] };

const outdir = path("dist/src/bundle");
rmSync(outdir, { recursive: true, force: true });
// @duckdb/node-api is CommonJS of ~180 files, which Node resolves, reads and compiles one by one
// at every process's start (~70 CPU-ms). Bundled into one CommonJS file (~37 CPU-ms), named by the
// package's version so that src/duckdb/index.ts loads it only for the version installed; its
// native bindings stay a package Node resolves.
const duckdbApi = JSON.parse(readFileSync(path("node_modules/@duckdb/node-api/package.json"), "utf8"));
const results = await Promise.all([
  build({ ...common, format: "cjs", entryPoints: [path("node_modules/@duckdb/node-api/lib/index.js")], external: ["@duckdb/node-bindings", "@duckdb/node-bindings-*", "detect-libc"], outfile: `${outdir}/duckdb-node-api-${duckdbApi.version}.cjs` }),
  build({ ...common, entryPoints: [path("dist/src/builtin-workers/pool-process.js")], outfile: `${outdir}/builtin-processes.js` }),
  build({ ...common, entryPoints: [path("dist/src/builtin-workers/pool-thread.js")], outfile: `${outdir}/builtin-threads.js` }),
  build({ ...common, entryPoints: { smelter: path("dist/src/cli/main.js") }, outdir, splitting: true, chunkNames: "[name]-[hash]" }),
]);
// A CommonJS module pulled into a bundle would need `require`, which an ES module lacks: esbuild
// then emits a shim that throws at run time. Refuse to write such a bundle.
const files = results.flatMap((r) => r.outputFiles);
for (const f of files) {
  if (f.text.includes("Dynamic require of")) {
    process.stderr.write(`[smelter] scripts/bundle.mjs: a CommonJS module reached ${f.path}; list its package as external\n`);
    process.exit(1);
  }
}
for (const f of files) {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.contents);
}
