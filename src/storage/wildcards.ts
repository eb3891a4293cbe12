/**
 * The characters that make a key pattern a glob (splits/glob.ts matches them): `*`, `?`, `[...]`
 * and `{...}`. Here, below splits/, so that storage/url.ts roots a local glob before its first
 * wildcard segment by the same rule.
 */
const WILDCARD = /[*?[{]/;

/** Whether `text` (a key pattern or one of its segments) holds a wildcard. */
export function hasWildcard(text: string): boolean {
  return WILDCARD.test(text);
}

/** The index of the first wildcard in `text`, or -1. */
export function firstWildcard(text: string): number {
  return text.search(WILDCARD);
}
