#!/usr/bin/env node
// The command line: the bundle `npm run build` makes (scripts/bundle.mjs; it starts faster), or
// the compiled modules when the bundle is missing or older than them (a `tsc` alone since).
import { statSync } from "node:fs";

const bundle = new URL("../dist/src/bundle/smelter.js", import.meta.url);
const modules = new URL("../dist/src/cli/main.js", import.meta.url);
let fresh = false;
try {
  fresh = statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
} catch {
  // no bundle: run the modules
}
const { main } = await import(fresh ? bundle.href : modules.href);
await main(process.argv);
