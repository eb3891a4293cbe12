/**
 * The command line's `processes` and `threads` workers run one bundled file each
 * (scripts/bundle.mjs, made by `npm run build`): the built-in workers and the pool's bootstrap,
 * which start faster from one file than from ~190 modules. A bundle must exist after the build,
 * import nothing of dist/ (its own copy of Smelter beside a second one would be two registries),
 * run the built-in workers as the unbundled bootstrap does, and be skipped when stale or missing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { BUILTIN_ENTRY, builtinPoolScript, freshBundle } from "../../src/cli/common.js";
import { ConfigError } from "../../src/job/errors.js";
import { runToEnd } from "../backends/conformance.js";

const dir = mkdtempSync(join(tmpdir(), "smelter-pool-bundle-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const pools = [
  { backend: "processes", file: "builtin-processes.js", make: (o: { script?: string }) => processesBackend({ entry: BUILTIN_ENTRY, workers: 1, ...o }) },
  { backend: "threads", file: "builtin-threads.js", make: (o: { script?: string }) => threadsBackend({ entry: BUILTIN_ENTRY, workers: 1, ...o }) },
] as const;

for (const pool of pools) {
  describe(`the command line's ${pool.backend} worker bundle`, () => {
    test("npm run build made it, and it imports only packages and Node's modules", () => {
      const bundle = builtinPoolScript(pool.backend);
      assert.ok(bundle, `dist/src/bundle/${pool.file} exists and is newer than the modules it bundles`);
      assert.ok(bundle.endsWith(`/dist/src/bundle/${pool.file}`), bundle);
      const text = readFileSync(bundle, "utf8");
      const specifiers = [...text.matchAll(/^\s*import\s[^;]*?from\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm)].map((m) => m[1] ?? m[2]!);
      assert.ok(specifiers.some((s) => s.startsWith("node:")), `it imports Node's modules: ${specifiers.join(", ")}`);
      assert.deepEqual(specifiers.filter((s) => s.startsWith(".") || s.startsWith("/") || s.startsWith("file:")), [], "no relative or absolute imports");
      assert.ok(!/Dynamic require of/.test(text), "no CommonJS shim");
    });

    test("a pool on the bundle runs the built-in workers as the bootstrap importing the entry does", async () => {
      const script = builtinPoolScript(pool.backend);
      assert.ok(script);
      const input = { seed: 42, samples: 20_000 };
      const viaBundle = pool.make({ script });
      const viaEntry = pool.make({});
      try {
        const a = await runToEnd(viaBundle, "demo.sample", input);
        const b = await runToEnd(viaEntry, "demo.sample", input);
        assert.ok(a.status === "succeeded" && b.status === "succeeded", JSON.stringify([a, b]).slice(0, 500));
        assert.deepEqual(a.output, b.output);
        assert.equal((a.output as { samples: number }).samples, 20_000);
        if (pool.backend === "processes") {
          // The process that ran it is the bundle, not the bootstrap.
          const pid = Number(a.runtimeId.replace(/^pid-/, ""));
          assert.match(readFileSync(`/proc/${pid}/cmdline`, "utf8"), /builtin-processes\.js/);
        }
        const unknown = await runToEnd(viaBundle, "no.such.worker", null);
        assert.ok(unknown.status === "failed");
        assert.match(unknown.error.message, /no worker named "no\.such\.worker"/);
      } finally {
        await viaBundle.close?.();
        await viaEntry.close?.();
      }
    });

    test("a missing script is refused by name", () => {
      assert.throws(() => pool.make({ script: join(dir, "none.js") }), (e: unknown) => e instanceof ConfigError && /none\.js does not exist/.test(e.message));
    });
  });
}

test("a stale or missing bundle is not used", () => {
  const bundle = join(dir, "bundle.js");
  const bundled = join(dir, "pool-process.js");
  writeFileSync(bundle, "");
  writeFileSync(bundled, "");
  utimesSync(bundled, new Date(1_000_000), new Date(1_000_000));
  utimesSync(bundle, new Date(2_000_000), new Date(2_000_000));
  assert.equal(freshBundle(bundle, bundled), bundle);
  utimesSync(bundled, new Date(3_000_000), new Date(3_000_000)); // tsc ran after the bundle
  assert.equal(freshBundle(bundle, bundled), undefined);
  assert.equal(freshBundle(join(dir, "none.js"), bundled), undefined);
});
