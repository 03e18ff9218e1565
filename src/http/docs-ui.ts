/**
 * The interactive API reference at /docs: Swagger UI from the pinned `swagger-ui-dist` package,
 * served by this app and never from a CDN, so it works offline and behind a strict
 * Content-Security-Policy. The page and its start script are small strings here; the two
 * large files (the UI bundle, 1.7 MB, and its stylesheet) come through `DocsAssets`, which each
 * runtime provides: read from node_modules on Node (src/platform/node/docs-assets.ts), from
 * Workers Static Assets on Workers (src/worker.ts; `[assets]` in wrangler.toml), so they never
 * enter the Worker's script bundle. DOCS_UI=off (the default with APP_ENV=production) leaves
 * every /docs path unregistered: a 404 `route_not_found` problem. /openapi.json stays served.
 */
import type { Hono } from 'hono';
import { ifNoneMatchHits } from './conditional.js';
import type { AppEnv } from './context.js';

/** The files of `swagger-ui-dist` the page loads, by their name in the package. */
export const DOCS_ASSET_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;
export type DocsAssetName = (typeof DOCS_ASSET_FILES)[number];

/** A file of the UI package: its bytes (or a stream of them) and, when the store knows one, its ETag. */
export interface DocsAsset {
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>;
  etag?: string;
}

/** Reads one of DOCS_ASSET_FILES from the installed package; undefined when it is missing. */
export interface DocsAssets {
  read(name: DocsAssetName): Promise<DocsAsset | undefined>;
}

/** Where the page and its files live. */
export const DOCS_PATH = '/docs';
const INIT_SCRIPT = 'init.js';

/**
 * The page's policy (CSP Level 3). Nothing but this origin: scripts and styles only from files
 * (no inline script, no eval, no inline <style>); the bundle's stylesheet draws its icons from
 * data: URIs; the UI fetches /openapi.json and sends "Try it out" requests to this origin.
 * React sets element styles through the CSSOM, which style-src does not govern.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<DocsAssetName | typeof INIT_SCRIPT, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  [INIT_SCRIPT]: 'text/javascript; charset=utf-8',
};

/**
 * The files are pinned with the package but their names carry no version: an hour in a
 * browser's cache, then revalidated (the stored ETag answers 304 on Workers).
 */
const ASSET_CACHE_CONTROL = 'public, max-age=3600';

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec-url="/openapi.json"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/${INIT_SCRIPT}"></script>
</body>
</html>
`;

// A file, not an inline script, so the policy needs no 'unsafe-inline' or hash. validatorUrl:
// null keeps Swagger UI from calling its public validator.
const initScript = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
`;

/**
 * Registers GET /docs and its files on `app`. HEAD is answered by Hono from GET. Each response
 * keeps the app-wide headers (nosniff, frame denial, X-Request-Id); the page adds its CSP.
 */
export function registerDocsUi(app: Hono<AppEnv>, assets: DocsAssets, title: string): void {
  const html = page(title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  app.get(DOCS_PATH, (c) => c.html(html, 200, { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }));
  app.get(`${DOCS_PATH}/${INIT_SCRIPT}`, (c) =>
    c.body(initScript, 200, { 'Content-Type': CONTENT_TYPES[INIT_SCRIPT], 'Cache-Control': 'no-cache' }),
  );
  for (const name of DOCS_ASSET_FILES) {
    app.get(`${DOCS_PATH}/${name}`, async (c) => {
      const asset = await assets.read(name);
      // A missing file is a broken installation, not a client error: say which one.
      if (!asset) throw new Error(`docs asset ${name} is missing from the installed swagger-ui-dist package`);
      const headers: Record<string, string> = { 'Content-Type': CONTENT_TYPES[name], 'Cache-Control': ASSET_CACHE_CONTROL };
      if (asset.etag) {
        headers.ETag = asset.etag;
        if (ifNoneMatchHits(c.req.header('if-none-match'), asset.etag)) return c.body(null, 304, headers);
      }
      return c.body(asset.body, 200, headers);
    });
  }
}
