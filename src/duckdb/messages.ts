/**
 * DuckDB's error text as Smelter shows it: the error, the line and the value, without what names
 * DuckDB's own options (its "Possible solutions" and the CSV reader's option dump: `ignore_errors`,
 * `strict_mode`, `sample_size`...), which Smelter spells differently (--bad-rows skip, --schema,
 * --table-option) and the hint after it gives. One line, "; " between DuckDB's lines.
 */
export function duckdbText(message: string): string {
  const kept: string[] = [];
  for (const line of message.split("\n")) {
    if (/^(Possible (solutions?|fixes)|The search space used was|Stack Trace|Column \S+ is being converted as type|This type was (auto-detected|either manually set)|  \S+ = )/i.test(line)) break;
    if (line.trim()) kept.push(line.trim());
  }
  return kept.join("; ").replace(/\.+$/, "");
}

/** Whether a DuckDB error says its input is not UTF-8. */
export function isInvalidUnicode(message: string): boolean {
  return /Invalid unicode|not valid UTF-?8|invalid UTF-?8/i.test(message);
}

/** What to do about input that is not UTF-8. */
export const INVALID_UNICODE_HINT = "the input is not UTF-8 text: convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8), or skip such rows with --bad-rows skip (counted)";
