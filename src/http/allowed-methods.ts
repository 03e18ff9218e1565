/**
 * Which methods a path takes, read from the app's own registered routes (one place: a new
 * route is covered the day it is added). Used for 405 `method_not_allowed` with `Allow`
 * (RFC 9110 §15.5.6) and for answering CORS preflights only on real paths.
 */
export interface RegisteredRoute {
  method: string;
  path: string;
}

export type AllowedMethods = (pathname: string) => string[];

/** `/v1/orders/:id` → /^\/v1\/orders\/[^/]+$/ (hono's `:name{regex}` is matched as one segment too). */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) => {
      if (seg === '*') return '.*';
      if (seg.startsWith(':')) return `[^/]+${seg.endsWith('?') ? '?' : ''}`;
      return seg.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
    })
    .join('/');
  // Exact, as hono's router matches (strict: `/v1/orders/` is not `/v1/orders`), so a path the
  // router would not serve never gets a 405 or a preflight.
  return new RegExp(`^${source}$`);
}

/**
 * `routes` is read on first use, once every route is registered (middleware, method `ALL`,
 * does not count). The answer lists HEAD wherever GET is (hono answers HEAD with the GET
 * handler) and OPTIONS (the preflight) on every real path; empty for an unknown path.
 */
export function allowedMethods(routes: () => readonly RegisteredRoute[]): AllowedMethods {
  let table: Array<{ pattern: RegExp; method: string }> | undefined;
  return (pathname) => {
    table ??= routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ pattern: patternOf(r.path), method: r.method.toUpperCase() }));
    const methods = new Set(table.filter((r) => r.pattern.test(pathname)).map((r) => r.method));
    if (methods.size === 0) return [];
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    return [...methods].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  };
}
