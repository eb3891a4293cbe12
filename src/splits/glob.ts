/**
 * Key patterns: a plain prefix (`data/`, `data/uservisits`) or a glob (`data/part-*`, `**\/*.csv`,
 * `logs/2024-0[1-3]/*.{csv,gz}`). `*` and `?` stay inside one path segment, `**` crosses them.
 */
import { firstWildcard } from "../storage/wildcards.js";

export interface KeyPattern {
  /** The literal part before the first wildcard: what to list. */
  listPrefix: string;
  /** Does a listed key match? */
  matches(key: string): boolean;
  isGlob: boolean;
}


export function parseKeyPattern(pattern: string): KeyPattern {
  const p = pattern.replace(/^\/+/, "");
  const wild = firstWildcard(p);
  if (wild < 0) {
    // A prefix names a directory-like prefix or one object: "data" matches "data" and "data/...".
    if (p === "" || p.endsWith("/")) return { listPrefix: p, isGlob: false, matches: (k) => k.startsWith(p) };
    return { listPrefix: p, isGlob: false, matches: (k) => k === p || k.startsWith(`${p}/`) };
  }
  const re = globToRegExp(p);
  return { listPrefix: p.slice(0, wild), isGlob: true, matches: (k) => re.test(k) };
}

export function globToRegExp(glob: string): RegExp {
  let out = "";
  let inGroup = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          out += "(?:.*/)?"; // "**/" matches zero or more directories
        } else out += ".*";
      } else out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) out += "\\[";
      else {
        let body = glob.slice(i + 1, close).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        out += `[${body}]`;
        i = close;
      }
    } else if (c === "{") {
      inGroup++;
      out += "(?:";
    } else if (c === "}" && inGroup > 0) {
      inGroup--;
      out += ")";
    } else if (c === "," && inGroup > 0) out += "|";
    else out += c.replace(/[.+^$()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}
