/**
 * No `file:` shortcuts outside src/storage/: code that needs to know whether a store's objects
 * are local files asks the store (`store.localPath`, docs/storage.md), never its URL. Checked on
 * the syntax tree of every file (so comments and help texts that show a `file:///` URL are fine):
 * a string or regex literal that is, or tests for, the `file` scheme is a shortcut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ts from "typescript";
import { layerOf, sourceFiles } from "./source-graph.js";

/** `"file"`, `"file:"`, `"file://"`, `/^file:/`, `/^file:\/\//i`: a test for the scheme, not an example URL. */
const SCHEME_TEST = /^(\^?file(:|:\/\/)?|\/\^?file(:|:\\?\/\\?\/)?\/[a-z]*)$/;

function fileShortcuts(path: string, text: string): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    const literal = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : ts.isRegularExpressionLiteral(node) ? node.text : undefined;
    if (literal !== undefined && SCHEME_TEST.test(literal)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`src/${path}:${line + 1}: ${node.parent.getText().slice(0, 120)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("no file: shortcuts outside src/storage/", () => {
  it("no module outside storage/ tests a URL for the file scheme", () => {
    const found = sourceFiles()
      .filter((f) => layerOf(f.path) !== "storage")
      .flatMap((f) => fileShortcuts(f.path, f.text));
    assert.deepEqual(found, [], `use the store's capability (store.localPath) instead:\n  ${found.join("\n  ")}`);
  });

  it("finds the shortcuts it must, and leaves example URLs and comments alone", () => {
    const code = [
      `if (store.url.startsWith("file:")) a();`,
      `const local = parsed.scheme === "file";`,
      `if (/^file:\\/\\//.test(url)) b();`,
      "const c = url.startsWith(`file://`);",
      `// store.url.startsWith("file:") in a comment`,
      `const help = "a local dir, file:///dir, s3://bucket/prefix";`,
      `const example = "file:///tmp/work";`,
      `type T = Pick<O, "files" | "filename">;`,
    ].join("\n");
    assert.deepEqual(
      fileShortcuts("x/probe.ts", code).map((f) => f.split(":")[1]),
      ["1", "2", "3", "4"],
    );
  });
});
