/**
 * The one place that opens DuckDB (`@duckdb/node-api`). A small, typed surface: open an in-memory
 * or file database, run SQL, read rows as plain JS objects, close. Everything else in Smelter goes
 * through here, so settings (threads, memory) and error messages live in one spot.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from "@duckdb/node-api";
import { z } from "zod";
import { SmelterError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import { closeAtWorkerEnd } from "../job/warm-resources.js";

/** Options of {@link openDuckDb}. */
export interface DuckDbOptions {
  /** Database file, or `:memory:`. @default ":memory:" */
  path?: string;
  /** DuckDB worker threads. @default DuckDB's own (all cores) */
  threads?: number;
  /** DuckDB's memory limit, e.g. `"1GB"`. @default DuckDB's own (80% of RAM) */
  memoryLimit?: string;
}

/**
 * `@duckdb/node-api` is CommonJS (124 modules), loaded with `require`, not `import`: on Node 20,
 * importing CommonJS from ESM makes Node scan every re-exported module for its export names
 * first, which cost 230 CPU-ms per process against 92 for `require` (docs/performance.md), paid
 * by the CLI and by every pool process and pool thread at its start. Node 24 loads it in ~76
 * CPU-ms either way.
 *
 * Every database this module opens is registered to be closed when its worker ends
 * (job/warm-resources.ts): a pool thread terminated with a DuckDB open aborted the whole process
 * now and then ("terminate called after throwing an instance of 'Napi::Error'", seen with
 * `require` in threads), so the threads backend's close lets its threads close what they hold and
 * end on their own, and terminates only a thread that outlasts its grace (docs/performance.md).
 */
const duckdbApi = loadDuckDbApi();

/**
 * The package, or, when this code runs from the command line's bundles (scripts/bundle.mjs), the
 * one-file CommonJS copy of it made for the installed version beside them: ~37 CPU-ms to load
 * against ~70 for the package's ~180 files, at the start of the CLI and of every pool worker.
 */
function loadDuckDbApi(): typeof import("@duckdb/node-api") {
  const require = createRequire(import.meta.url);
  const { version } = require("@duckdb/node-api/package.json") as { version: string };
  const bundled = fileURLToPath(new URL(`./duckdb-node-api-${version}.cjs`, import.meta.url));
  return require(existsSync(bundled) ? bundled : "@duckdb/node-api") as typeof import("@duckdb/node-api");
}

const optionsSchema = z.strictObject({
  path: z.string().min(1).default(":memory:"),
  threads: z.number().int().min(1).optional(),
  memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, "write it like 512MB or 2GB").optional(),
});

/** A value in a row as plain JS (numbers, bigints, strings, Dates for timestamps, arrays, objects). */
export type SqlValue = unknown;
export type SqlRow = Record<string, SqlValue>;
/** Positional (`?`/`$1`) or named (`$name`) parameters. */
export type SqlParams = DuckDBValue[] | Record<string, DuckDBValue>;

/** SQL failed in DuckDB. Not retryable: the same SQL fails the same way. */
export class DuckDbError extends SmelterError {
  override name = "DuckDbError";
  constructor(message: string, cause: unknown) {
    super(message, { type: "DuckDbError", nonRetryable: true, cause });
  }
}

export interface DuckDb {
  /** Runs one or more statements; results are discarded. */
  run(sql: string, params?: SqlParams): Promise<void>;
  /** Runs a query and returns every row as an object keyed by column name. */
  all<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]>;
  /** The first column of the first row, or undefined. */
  value(sql: string, params?: SqlParams): Promise<SqlValue>;
  /** The underlying connection, for what this module does not wrap yet. */
  readonly connection: DuckDBConnection;
  close(): void;
}

/** Opens a database (in memory unless `path` is a file). */
export async function openDuckDb(options: DuckDbOptions = {}): Promise<DuckDb> {
  const opts = parseOrThrow(optionsSchema, options, "DuckDB options");
  const config: Record<string, string> = {};
  if (opts.threads !== undefined) config.threads = String(opts.threads);
  if (opts.memoryLimit !== undefined) config.memory_limit = opts.memoryLimit;
  let instance: DuckDBInstance;
  try {
    instance = await duckdbApi.DuckDBInstance.create(opts.path, config);
  } catch (err) {
    throw new DuckDbError(`cannot open DuckDB database "${opts.path}": ${(err as Error).message}; check the path and that no other process holds it`, err);
  }
  const connection = await instance.connect();
  let closed = false;
  let forget = (): void => {};
  const close = (): void => {
    if (closed) return;
    closed = true;
    forget();
    connection.closeSync();
    instance.closeSync();
  };

  async function reader(sql: string, params?: SqlParams) {
    if (closed) throw new DuckDbError("this DuckDB database is closed: open a new one", undefined);
    try {
      return await connection.runAndReadAll(sql, params);
    } catch (err) {
      throw new DuckDbError(`DuckDB: ${(err as Error).message}\n  in SQL: ${sql.length > 500 ? `${sql.slice(0, 500)}...` : sql}`, err);
    }
  }

  const db: DuckDb = {
    connection,
    async run(sql, params) {
      await reader(sql, params);
    },
    async all<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
      return (await reader(sql, params)).getRowObjectsJS() as T[];
    },
    async value(sql, params) {
      const rows = (await reader(sql, params)).getRowsJS();
      return rows[0]?.[0];
    },
    close,
  };
  forget = closeAtWorkerEndIfHeld(new WeakRef(db));
  return db;
}

/**
 * Registers a database to be closed when its worker ends, through a weak reference: one its
 * opener dropped without closing is still collected (and freed by the binding) as before.
 */
function closeAtWorkerEndIfHeld(db: WeakRef<DuckDb>): () => void {
  return closeAtWorkerEnd(() => db.deref()?.close());
}

export { sqlIdentifier, sqlString } from "./sql.js";
