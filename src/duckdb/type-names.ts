/**
 * Column type names as users write them in `--schema` ('name TYPE, ...'), validated before any of
 * them reaches SQL text: a type is a name of one or more words (`VARCHAR`, `DOUBLE PRECISION`,
 * `TIMESTAMP WITH TIME ZONE`), optionally with arguments in parentheses (numbers, types, or
 * `field TYPE` pairs: `DECIMAL(10, 2)`, `STRUCT(a INTEGER, "b c" VARCHAR)`, `MAP(VARCHAR, INTEGER)`)
 * and list brackets (`INTEGER[]`, `DOUBLE[3]`). No quotes, semicolons, or keywords beyond a type's
 * own words: `VARCHAR); COPY ...` is not a type. DuckDB then binds the type (an unknown one is its
 * own error).
 */

/** Words that may follow a type's first word (DOUBLE PRECISION, TIMESTAMP WITH TIME ZONE, CHARACTER VARYING). */
const MORE_WORDS = new Set(["precision", "with", "without", "time", "zone", "varying"]);

type Token = { kind: "word" | "quoted" | "number" | "(" | ")" | "," | "[" | "]"; text: string };

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"]|"")+")|(\d+)|([(),[\]]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: "word", text: m[1] });
    else if (m[2]) tokens.push({ kind: "quoted", text: m[2] });
    else if (m[3]) tokens.push({ kind: "number", text: m[3] });
    else tokens.push({ kind: m[4] as Token["kind"], text: m[4]! });
  }
  return tokens;
}

/** Whether `text` is a type name by the grammar above. */
export function isTypeName(text: string): boolean {
  const tokens = tokenize(text);
  if (!tokens || tokens.length === 0) return false;
  let i = 0;
  const peek = () => tokens[i];
  const type = (): boolean => {
    if (peek()?.kind !== "word") return false;
    i++;
    while (peek()?.kind === "word" && MORE_WORDS.has(peek()!.text.toLowerCase())) i++;
    if (peek()?.kind === "(") {
      i++;
      for (;;) {
        if (!argument()) return false;
        if (peek()?.kind === ",") {
          i++;
          continue;
        }
        if (peek()?.kind !== ")") return false;
        i++;
        break;
      }
    }
    while (peek()?.kind === "[") {
      i++;
      if (peek()?.kind === "number") i++;
      if (peek()?.kind !== "]") return false;
      i++;
    }
    return true;
  };
  // A number, a type, or a field name followed by a type.
  const argument = (): boolean => {
    const t = peek();
    if (t?.kind === "number") {
      i++;
      return true;
    }
    if (t?.kind === "quoted") {
      i++;
      return type();
    }
    if (t?.kind !== "word") return false;
    const next = tokens[i + 1];
    if (next?.kind === "word" && !MORE_WORDS.has(next.text.toLowerCase())) {
      i++; // a field name
      return type();
    }
    return type();
  };
  return type() && i === tokens.length;
}

/** The problem with a column's type, in Smelter's words, or undefined. */
export function typeProblem(column: string, type: string): string | undefined {
  if (isTypeName(type)) return undefined;
  return `column ${column}: ${JSON.stringify(type)} is not a type name (write a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DECIMAL(10, 2), DATE, TIMESTAMP, INTEGER[])`;
}
