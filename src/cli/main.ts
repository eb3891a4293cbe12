/**
 * The `smelter` command line. Each command lives in its own file and exports `register(program)`.
 * Results go to stdout; progress, logs and errors go to stderr.
 */
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { ConfigError, SmelterError } from "../job/errors.js";
import { interrupts } from "./interrupts.js";

type CommandModule = { register(program: Command): void };
/**
 * Each command's module, loaded only when needed: a run of `smelter query2` loads query2's module
 * alone (not DuckDB through datagen or sql, nor the S3 server through demo) before its pool starts.
 * `smelter --help` and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  demo: () => import("./demo.js"),
  query2: () => import("./query2.js"),
  pi: () => import("./pi.js"),
  s3: () => import("./s3.js"),
  datagen: () => import("./datagen.js"),
  explain: () => import("./explain.js"),
  sql: () => import("./sql.js"),
  report: () => import("./report.js"),
  logs: () => import("./logs.js"),
  simulate: () => import("./simulate.js"),
  deploy: () => import("./deploy.js"),
  clean: () => import("./clean.js"),
};

const require = createRequire(import.meta.url);
const { version } = require("../../../package.json") as { version: string };

/**
 * The command line. With `command` (the first word of the arguments) naming a command, only that
 * command is registered; otherwise all of them, in help order.
 */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command("smelter")
    .description("Run map-reduce jobs and SQL over object storage on many short-lived workers.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    // commander's own errors (unknown option, missing argument) in Smelter's words: "[smelter] unknown option '--x'"
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`[smelter] ${s.replace(/^error: /, "")}`) });
  program.option("--endpoint <url>", "S3-compatible endpoint for s3:// URLs (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)");
  program.hook("preAction", () => {
    const endpoint = program.opts<{ endpoint?: string }>().endpoint;
    if (endpoint === undefined) return;
    if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new ConfigError(`--endpoint must be a URL like http://127.0.0.1:4568 (got "${endpoint}")`);
    process.env.AWS_ENDPOINT_URL_S3 = endpoint; // the AWS SDK reads it here, and pool workers inherit it
  });
  program.exitOverride();
  const load = command !== undefined && Object.hasOwn(COMMANDS, command) ? [COMMANDS[command]!] : Object.values(COMMANDS);
  for (const mod of await Promise.all(load.map((f) => f()))) mod.register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(commandWord(argv.slice(2)));
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`${formatError(err)}\n`);
    // 130 after Ctrl-C (SIGINT), 143 after SIGTERM, as shells expect; 1 for every other failure.
    process.exitCode = interrupts.exitCode() ?? 1;
  } finally {
    const left = interrupts.leftovers();
    if (left) {
      process.stderr.write(`${left}\n`);
      process.exitCode ||= 1;
    }
  }
  if (interrupts.exitCode() !== undefined) process.exitCode = interrupts.exitCode();
}

/** The first argument that is not a global option (the command's name), if any. */
function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--endpoint") i++; // takes a value
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/** One readable paragraph for the user: our errors as they are, others with their name. */
export function formatError(err: unknown): string {
  if (err instanceof SmelterError) return err.message;
  if (err instanceof Error) return `[smelter] ${err.name}: ${err.message}`;
  return `[smelter] ${String(err)}`;
}
