/** A response's headers by lower-case name, without `skip` (what only a socket adds: Date, Connection, …). */
export function headersOf(res: Response, skip: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!skip.has(name)) out[name] = value;
  });
  return out;
}
