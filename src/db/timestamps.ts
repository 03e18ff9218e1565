/**
 * Timestamps on the wire. Raw-SQL timestamps arrive as strings on every driver (drizzle turns
 * parsing off) and drizzle's query builder gives Dates; every response carries ISO 8601 UTC
 * with milliseconds (`2026-03-27T09:00:00.000Z`). A value `Date` cannot parse throws RangeError.
 */
export const isoOf = (value: string | Date): string => new Date(value).toISOString();
