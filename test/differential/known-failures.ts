/**
 * Classes of wrong answers (or wrong refusals) known to exist and not fixed yet. A case in one of
 * these classes is reported as `skip` with the reason, so `npm test` stays green while the
 * generators keep drawing those inputs; `npm run fuzz -- --include-known` runs the listed cases
 * anyway and names those that now pass. Add a class here only with its issue and a seed that
 * shows it, and empty the list again when it is fixed.
 *
 * EMPTY since the last issue 9 classes were fixed (sql-join-mixed-inputs, sql-column-order,
 * sql-ndjson-column-order, sql-headerless-quoted-sniff, empty-gzip-header: docs/correctness.md
 * says each one's cause and fix, with its regression test in test/sql/exact-inputs.test.ts).
 */
import type { CaseSpec } from "./cases.js";
import type { GeneratedTable } from "./generate.js";

export interface KnownFailure {
  id: string;
  issue: string;
  reason: string;
  matches: (c: CaseSpec, tables: GeneratedTable[]) => boolean;
}

export const KNOWN_FAILURES: KnownFailure[] = [];

/** The first known failure class case `c` (with its generated tables) belongs to. */
export function knownFailure(c: CaseSpec, tables: GeneratedTable[]): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.matches(c, tables));
}
