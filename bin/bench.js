#!/usr/bin/env node
// `npm run bench <name> [args]`: runs dist/bench/<name>.js (built by `npm run build`).
import { existsSync, readdirSync } from "node:fs";
const dir = new URL("../dist/bench/", import.meta.url);
const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".js") && !f.startsWith("_")).map((f) => f.slice(0, -3)) : [];
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench <name> [args]\nbenchmarks: ${names.join(", ") || "(none built: run npm run build)"}`);
  process.exit(name ? 1 : 0);
}
process.argv.splice(2, 1);
await import(new URL(`${name}.js`, dir).href);
