import { describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/http/docs-ui.js';
import type { Harness } from '../support/harness.js';

/**
 * /docs and the Swagger UI files it loads, from the installed swagger-ui-dist package: read
 * from node_modules on Node, from Workers Static Assets inside workerd. Runs on both. The
 * browser check is test/node/docs-browser.test.ts.
 */
export function docsUiJourney(harness: () => Harness) {
  describe('docs UI', () => {
    it('serves the page under its CSP, and the script, stylesheet and start script from this origin', async () => {
      const { api } = harness();
      const page = await api.get('/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(sources).toEqual(['data:,', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);

      const bundle = await api.get('/docs/swagger-ui-bundle.js');
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(bundle.text.length).toBeGreaterThan(1_000_000);
      expect(bundle.text).toContain('SwaggerUIBundle');
      const css = await api.get('/docs/swagger-ui.css');
      expect(css.status).toBe(200);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect(css.text).toContain('.swagger-ui');
      const init = await api.get('/docs/init.js');
      expect(init.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(init.text).toContain('SwaggerUIBundle(');

      // Revalidation: the stored entity tag answers 304 with no body.
      const etag = css.headers.get('etag');
      expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
      const again = await api.get('/docs/swagger-ui.css', { headers: { 'if-none-match': `"other", ${etag!}` } });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
    });

    it('serves no other file of the package', async () => {
      const { api } = harness();
      for (const path of ['/docs/index.html', '/docs/package.json', '/docs/swagger-initializer.js', '/swagger-ui.css', '/package.json']) {
        expect((await api.get(path)).status, path).toBe(404);
      }
    });
  });
}
