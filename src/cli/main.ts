/**
 * The `smelter` command line. Each command lives in its own file and exports `register(program)`.
 * Results go to stdout; progress, logs and errors go to stderr.
 */
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { ConfigError, SmelterError } from "../job/errors.js";
import { interrupts } from "./interrupts.js";
import { register as registerDemo } from "./demo.js";
import { register as registerPi } from "./pi.js";
import { register as registerQuery2 } from "./query2.js";
import { register as registerS3 } from "./s3.js";
import { register as registerDatagen } from "./datagen.js";
import { register as registerExplain } from "./explain.js";
import { register as registerSql } from "./sql.js";
import { register as registerReport } from "./report.js";
import { register as registerLogs } from "./logs.js";
import { register as registerSimulate } from "./simulate.js";
import { register as registerDeploy } from "./deploy.js";
import { register as registerClean } from "./clean.js";

const require = createRequire(import.meta.url);
const { version } = require("../../../package.json") as { version: string };

export function buildProgram(): Command {
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
  registerDemo(program);
  registerQuery2(program);
  registerPi(program);
  registerS3(program);
  registerDatagen(program);
  registerExplain(program);
  registerSql(program);
  registerReport(program);
  registerLogs(program);
  registerSimulate(program);
  registerDeploy(program);
  registerClean(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
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

/** One readable paragraph for the user: our errors as they are, others with their name. */
export function formatError(err: unknown): string {
  if (err instanceof SmelterError) return err.message;
  if (err instanceof Error) return `[smelter] ${err.name}: ${err.message}`;
  return `[smelter] ${String(err)}`;
}
