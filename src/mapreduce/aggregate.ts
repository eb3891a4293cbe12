/**
 * A grouped aggregation as plain data, and the SQL each stage runs for it:
 *   map:     SELECT keys, partial aggregates FROM <split files> [WHERE ...] GROUP BY keys
 *   shuffle: hash(keys) % R
 *   reduce:  SELECT keys, final aggregates FROM <partials> GROUP BY keys
 * AVG travels as a sum and a count (NULL-correct); COUNT partials are summed.
 */
import { z } from "zod";
import { sqlIdentifier } from "../duckdb/sql.js";

export { columnSchema, tableSchema, sourceSql, type TableSpec } from "./table-source.js";

export const aggregateFns = ["sum", "count", "min", "max", "avg"] as const;

export const aggregateSpecSchema = z.object({
  /** Group keys: output name and SQL expression over the table's columns. */
  keys: z.array(z.object({ name: z.string().min(1), expr: z.string().min(1) })).min(1),
  /** Aggregates: output name, function, argument (SQL expression; null for COUNT(*)). */
  aggregates: z.array(z.object({ name: z.string().min(1), fn: z.enum(aggregateFns), arg: z.string().min(1).nullable() })).min(1),
  where: z.string().min(1).optional(),
  /** Columns the query reads (Parquet reads only these). */
  columns: z.array(z.string().min(1)).min(1),
});
export type AggregateSpec = z.output<typeof aggregateSpecSchema>;

const q = sqlIdentifier;

function partialColumns(spec: AggregateSpec): string[] {
  return spec.aggregates.flatMap((a) => {
    const arg = a.arg ?? "*";
    switch (a.fn) {
      case "avg":
        return [`sum(${arg}) AS ${q(`${a.name}__sum`)}`, `count(${arg}) AS ${q(`${a.name}__count`)}`];
      default:
        return [`${a.fn}(${arg}) AS ${q(a.name)}`];
    }
  });
}

function combined(spec: AggregateSpec, final: boolean): string[] {
  return spec.aggregates.flatMap((a) => {
    const n = q(a.name);
    switch (a.fn) {
      case "sum":
        return [`sum(${n}) AS ${n}`];
      case "count":
        return [`sum(${n})::BIGINT AS ${n}`];
      case "min":
      case "max":
        return [`${a.fn}(${n}) AS ${n}`];
      case "avg": {
        const s = q(`${a.name}__sum`);
        const c = q(`${a.name}__count`);
        return final ? [`sum(${s}) / NULLIF(sum(${c}), 0) AS ${n}`] : [`sum(${s}) AS ${s}`, `sum(${c})::BIGINT AS ${c}`];
      }
    }
  });
}

const keyList = (spec: AggregateSpec) => spec.keys.map((k) => q(k.name)).join(", ");

/** `aggregates` of `source`'s rows (filtered by `where`) grouped by the spec's key expressions. */
function groupSql(spec: AggregateSpec, source: string, aggregates: string[]): string {
  const keys = spec.keys.map((k) => `${k.expr} AS ${q(k.name)}`);
  return `SELECT ${[...keys, ...aggregates].join(", ")} FROM ${source}${spec.where ? ` WHERE ${spec.where}` : ""} GROUP BY ${spec.keys.map((_, i) => i + 1).join(", ")}`;
}

/** Map: partial aggregates of the task's rows. */
export function mapSql(spec: AggregateSpec, source: string): string {
  return groupSql(spec, source, partialColumns(spec));
}

/** The partition a row of partials goes to. */
export function partitionSql(spec: AggregateSpec, partitions: number): string {
  return `hash(${keyList(spec)}) % ${partitions}`;
}

/** Partials merged into fewer partials (a reducer compacting what it holds). */
export function mergeSql(spec: AggregateSpec, table: string): string {
  return combineSql(spec, table, false);
}

/** Final aggregates from partials. */
export function finalSql(spec: AggregateSpec, table: string): string {
  return combineSql(spec, table, true);
}

function combineSql(spec: AggregateSpec, table: string, final: boolean): string {
  return `SELECT ${keyList(spec)}, ${combined(spec, final).join(", ")} FROM ${table} GROUP BY ${keyList(spec)}`;
}
