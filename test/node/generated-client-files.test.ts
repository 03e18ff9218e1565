/**
 * The committed client files (clients/openapi.json, clients/typescript/schema.d.ts) are what
 * `npm run openapi:client` writes from the current routes. A route, schema or description changed
 * without regenerating fails here, before the journey over the generated client compiles against
 * yesterday's contract (test/journeys/generated-client.ts).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClientFiles, CLIENT_FILES } from '../../tools/openapi/client-files.js';
import { createTestApp } from '../support/node-app.js';

describe('generated client files', () => {
  it('match a fresh generation from the app (run npm run openapi:client)', async () => {
    const fresh = await buildClientFiles();
    for (const key of Object.keys(CLIENT_FILES) as Array<keyof typeof CLIENT_FILES>) {
      const committed = await readFile(resolve(CLIENT_FILES[key]), 'utf8').catch(() => '');
      expect(committed === fresh[key], `${CLIENT_FILES[key]} is stale: run npm run openapi:client`).toBe(true);
    }
  });

  it('hold the document the app serves with the test configuration (Stripe, proxies, database)', async () => {
    // The generator builds the app with a bare test configuration; the served document must not depend on it.
    const t = await createTestApp();
    try {
      const served = await t.app.request('/openapi.json');
      expect(served.status).toBe(200);
      expect(await readFile(resolve(CLIENT_FILES.document), 'utf8')).toBe(`${JSON.stringify(await served.json(), null, 2)}\n`);
    } finally {
      await t.close();
    }
  });
});
