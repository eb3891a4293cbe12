#!/usr/bin/env node
// Bundles what a `processes` pool worker of the command line loads (the built-in workers and the
// process bootstrap, dist/src/builtin-workers/pool-process.js, compiled by tsc first) into one
// file, dist/src/bundle/builtin-pool.js. Node loads one ESM file much faster than the ~190 modules
// it replaces (resolving, reading and linking each): a worker is ready ~85 CPU-ms sooner, which the
// command line's cold start pays once per worker (docs/performance.md, "cold").
//
// Bundled: Smelter's own modules and the pure-ESM packages the workers import at start (zod,
// hyparquet, csv-parse, p-limit). Left to Node: DuckDB (a native addon), the AWS SDK and every
// other dependency, which Smelter loads with `require` or lazily; they resolve from the bundle's
// directory as from any module in dist/src.
//
//   node scripts/bundle-workers.mjs        (run by `npm run build` after tsc)
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const repo = new URL("..", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", repo), "utf8"));
const BUNDLED = new Set(["zod", "hyparquet", "csv-parse", "p-limit"]);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);

const { outputFiles } = await build({
  entryPoints: [new URL("dist/src/builtin-workers/pool-process.js", repo).pathname],
  outfile: new URL("dist/src/bundle/builtin-pool.js", repo).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external,
  logLevel: "warning",
  write: false,
});
// A CommonJS package pulled into the bundle would need `require`, which an ES module lacks:
// esbuild then emits a shim that throws at run time. Refuse to write such a bundle.
const [out] = outputFiles;
if (out.text.includes("Dynamic require of")) {
  process.stderr.write(`[smelter] bundle-workers: a CommonJS module reached the bundle; list its package as external in ${new URL(import.meta.url).pathname}\n`);
  process.exit(1);
}
mkdirSync(dirname(out.path), { recursive: true });
writeFileSync(out.path, out.contents);
