/**
 * /docs in a real browser with no network: Debian's Chromium (installed by .ci/run, like
 * promtool) driven by playwright-core loads the page from the Node server, every request to
 * anything but that server aborted, and must list every operation of /openapi.json with no
 * CSP violation, no failed request and no error in the console. With the setting off, /docs is
 * a 404 problem. Without /usr/bin/chromium the browser suite skips, or fails under
 * REQUIRE_TOOLS=1 (.ci/run), saying how to install it (test/support/tools.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DOCS_CSP } from '../../src/http/docs-ui.js';
import { expectProblem } from '../support/client.js';
import { startServer, stopServer, type ServerProcess } from '../support/server-process.js';
import { CHROMIUM, describeWithTools } from '../support/tools.js';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const tmp = mkdtempSync(join(tmpdir(), 'laundry-docs-'));
const servers: ServerProcess[] = [];
let browser: Browser | undefined;

/** The Node server as `npm start` runs it, on the suite's database (or a PGlite folder). */
async function start(env: Record<string, string> = {}) {
  const serverDb = inject('nodeDatabaseUrl');
  const database: Record<string, string> = serverDb ? { DATABASE_URL: serverDb } : { PGLITE_DIR: join(tmp, `pglite-${servers.length}`) };
  const server = await startServer({ HOME: tmp, LOG_LEVEL: 'warn', ...database, ...env });
  servers.push(server);
  return server;
}

afterAll(async () => {
  await browser?.close();
  for (const s of servers) await stopServer(s);
  rmSync(tmp, { recursive: true, force: true });
});

describeWithTools([CHROMIUM], '/docs in headless Chromium, offline', () => {
  it('lists every operation of /openapi.json under the page CSP, loading nothing from elsewhere', { timeout: 120_000 }, async () => {
    const server = await start();
    const origin = new URL(server.url).origin;
    const spec = (await (await fetch(`${origin}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item).filter((k) => METHODS.includes(k)));
    expect(operations.length).toBeGreaterThan(30);

    const page0 = await fetch(`${origin}/docs`);
    expect(page0.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(page0.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page0.headers.get('x-frame-options')).toBe('DENY');
    expect(await page0.text()).not.toMatch(/<script>|<style|https?:\/\//);

    browser = await chromium.launch({ executablePath: CHROMIUM.command, args: FLAGS });
    const context = await browser.newContext();
    const offsite: string[] = [];
    const served: string[] = [];
    // Only the server under test is reachable; anything else (a CDN, a validator, fonts) is aborted and recorded.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) {
        served.push(new URL(url).pathname);
        return route.continue();
      }
      offsite.push(url);
      return route.abort('blockedbyclient');
    });
    // Runs before the page's own scripts; CDP-injected, so the page's CSP does not block it.
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });

    const response = await page.goto(`${origin}/docs`);
    expect(response?.status()).toBe(200);
    const blocks = page.locator('.opblock');
    await blocks.nth(operations.length - 1).waitFor({ timeout: 60_000 });
    expect(await blocks.count()).toBe(operations.length);

    // Open one operation: its responses render (the lazily drawn part of the UI) without a violation.
    const services = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/v1/services"]') });
    await services.locator('.opblock-summary').click();
    await services.locator('.responses-wrapper').waitFor({ timeout: 30_000 });

    expect(served).toEqual(expect.arrayContaining(['/docs', '/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js', '/openapi.json']));
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);

    // The policy is really enforced and violations are really seen: an inline script is refused.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.head.append(s);
    });
    await expect.poll(() => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual(['script-src-elem inline']);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
  });
});

describe('/docs switched off', () => {
  it('DOCS_UI=off: /docs and its files are a 404 problem; /openapi.json is still served', async () => {
    const server = await start({ DOCS_UI: 'off' });
    for (const path of ['/docs', '/docs/init.js', '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']) {
      const res = await fetch(`${server.url}${path}`);
      const text = await res.text();
      expectProblem({ status: res.status, headers: res.headers, text, body: JSON.parse(text) as unknown }, 404, 'route_not_found');
    }
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(200);
  });
});
