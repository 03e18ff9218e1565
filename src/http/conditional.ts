/**
 * Conditional GET (RFC 9110 §13.1.2, If-None-Match): does the client already hold the
 * representation whose entity tag is `etag`? Comparison is weak (§8.8.3.2: `W/"x"` matches
 * `"x"`), `*` matches any current representation, and the header is a comma-separated list.
 * A malformed member never matches, so a bad header costs a full 200, never a wrong 304.
 */
const ENTITY_TAG = /^(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/** The opaque part of an entity tag (`W/"abc"` and `"abc"` → `abc`), or undefined if it is not one. */
function opaqueTag(tag: string): string | undefined {
  return ENTITY_TAG.exec(tag.trim())?.[1];
}

/** True when `ifNoneMatch` (the raw header, or undefined) matches `etag` by weak comparison. */
export function ifNoneMatchHits(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const header = ifNoneMatch.trim();
  if (header === '*') return true;
  const mine = opaqueTag(etag);
  if (mine === undefined) return false;
  // Entity tags cannot contain a comma or a double quote, so splitting on commas is exact.
  return header.split(',').some((member) => opaqueTag(member) === mine);
}
