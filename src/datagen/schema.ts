/** The Big Data Benchmark's tables: columns in file order, with DuckDB types (one definition for datagen, Query 2 and SQL). */
import type { Table } from "./source.js";

export const BDB_COLUMNS: Record<Table, { name: string; type: string }[]> = {
  uservisits: [
    { name: "sourceIP", type: "VARCHAR" },
    { name: "destURL", type: "VARCHAR" },
    { name: "visitDate", type: "DATE" },
    { name: "adRevenue", type: "FLOAT" },
    { name: "userAgent", type: "VARCHAR" },
    { name: "countryCode", type: "VARCHAR" },
    { name: "languageCode", type: "VARCHAR" },
    { name: "searchWord", type: "VARCHAR" },
    { name: "duration", type: "INTEGER" },
  ],
  rankings: [
    { name: "pageURL", type: "VARCHAR" },
    { name: "pageRank", type: "INTEGER" },
    { name: "avgDuration", type: "INTEGER" },
  ],
};
