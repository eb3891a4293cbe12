/** The Big Data Benchmark's real `tiny` data (test/fixtures/bdb-tiny/README.md), part of the repository. */
import { fileURLToPath } from "node:url";

/** dist/test/helpers -> test/fixtures/bdb-tiny/ in the repository (the data is not compiled). */
export const BDB_TINY = fileURLToPath(new URL("../../../test/fixtures/bdb-tiny/", import.meta.url));
export const BDB_TINY_USERVISITS = `${BDB_TINY}uservisits/`;
