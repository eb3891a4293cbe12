/**
 * The command line of a benchmark program: node's parseArgs, plus `--help` (prints the program's
 * header comment, which says what it measures and lists its options) and a short error in the
 * benchmark's words for an option it does not know, instead of a stack trace.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The running benchmark's name (its benchArgs call), for {@link badOption}. */
let benchName: string | undefined;

/** `program`: the benchmark's import.meta.url (its compiled file keeps the header comment). */
export function benchArgs<O extends Options>(program: string, name: string, options: O): ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"] {
  benchName = name;
  if (process.argv.slice(2).some((a) => a === "--help" || a === "-h")) {
    console.log(usage(program));
    process.exit(0);
  }
  try {
    return parseArgs({ options, strict: true }).values;
  } catch (err) {
    process.stderr.write(`[bench ${name}] ${(err as Error).message}: see npm run bench ${name} -- --help\n`);
    process.exit(2);
  }
}

/** A bad option value: one line in the benchmark's words and exit 2, as for an unknown option (not a stack trace). */
export function badOption(message: string): never {
  const name = benchName ?? "";
  process.stderr.write(`[bench${name ? ` ${name}` : ""}] ${message}: see npm run bench ${name} -- --help\n`);
  process.exit(2);
}

/** An option's text as an integer of at least `min` (1: a count; 0: may be zero), else a one-line error naming `--flag`. */
export function intOption(flag: string, value: string | undefined, min: 0 | 1 = 1): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) badOption(`--${flag} must be a ${min === 1 ? "positive" : "non-negative"} integer, got ${String(value)}`);
  return v;
}

/** The first doc comment of the program's file, without its comment marks. */
function usage(program: string): string {
  const text = readFileSync(fileURLToPath(program), "utf8");
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
  return doc
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim();
}
