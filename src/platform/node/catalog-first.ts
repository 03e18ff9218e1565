/**
 * The Node server's request listener with the cached catalog answered ahead of the app
 * (src/http/fast-catalog.ts): a GET of exactly /v1/services goes to the fast path first; when it
 * declines (no fresh cache entry, a query, an odd Host, a bad If-None-Match) or fails, the
 * request goes to @hono/node-server's listener as any other does. Node-only.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { CATALOG_PATH, type CatalogAnswer, type CatalogRequest } from '../../http/fast-catalog.js';

/** Wraps `listener` (the app's); `answer` is cachedCatalogAnswer(deps, …). */
export function catalogFirst(answer: (req: CatalogRequest) => Promise<CatalogAnswer | undefined>, listener: RequestListener): RequestListener {
  let lastText: string | undefined;
  let lastBytes = Buffer.alloc(0);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || req.url !== CATALOG_PATH) return listener(req, res);
    const headers = req.headers;
    const request: CatalogRequest = {
      method: req.method,
      target: req.url,
      header: (name) => {
        const value = headers[name];
        return typeof value === 'string' ? value : undefined;
      },
    };
    answer(request).then(
      (a) => {
        if (!a) return listener(req, res);
        try {
          if (a.body === undefined) {
            res.writeHead(a.status, a.headers).end();
            return;
          }
          // The same cached text on most requests: its bytes are kept with it.
          if (a.body !== lastText) [lastText, lastBytes] = [a.body, Buffer.from(a.body)];
          a.headers['Content-Length'] = String(lastBytes.byteLength);
          res.writeHead(a.status, a.headers).end(lastBytes);
        } catch (err) {
          // Already logged and counted: the socket is all that is left to close.
          res.destroy(err instanceof Error ? err : undefined);
        }
      },
      // Nothing was logged or sent: the app answers (a cache that fails, say).
      () => listener(req, res),
    );
  };
}
