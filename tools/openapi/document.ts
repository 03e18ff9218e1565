/**
 * The app's OpenAPI document without a server or a database: builds the real app with the test
 * configuration and asks it for GET /openapi.json, exactly what clients fetch. Serving the
 * document touches no dependency, so the database is one that refuses every call.
 *
 *   npx tsx tools/openapi/document.ts [out.json]     (stdout when no file is named)
 */
import { writeFile } from 'node:fs/promises';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';
import { runIfEntryPoint } from '../shared/entry.js';

const refuse = (): never => {
  throw new Error('the OpenAPI document needs no database');
};

/** A database for an app that only serves its document: every call throws (drizzle's mock has no connection). */
const noDatabase: Database = {
  kind: 'node-postgres',
  db: drizzle.mock({ schema }),
  batch: () => Promise.reject(refuse()),
  rows: () => Promise.reject(refuse()),
  ping: () => Promise.reject(refuse()),
  close: () => Promise.resolve(),
};

/** The app's dependencies with the test configuration and no database: enough to serve the document. */
export function documentDeps(): ReturnType<typeof createNodeDeps> {
  const config = loadConfig({ APP_ENV: 'test', JWT_SECRET: 'openapi-document-only-'.padEnd(40, 'x') });
  return createNodeDeps(config, { database: noDatabase, logger: createMemoryLogger() });
}

/** GET /openapi.json of the app built with the test configuration: the exact bytes served. */
export async function openApiText(): Promise<string> {
  const app = createApp(documentDeps());
  const res = await app.request('/openapi.json');
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  return await res.text();
}

/** GET /openapi.json of the app built with the test configuration, parsed. */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  return JSON.parse(await openApiText()) as Record<string, unknown>;
}

runIfEntryPoint(import.meta.url, async () => {
  const text = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
  const out = process.argv[2];
  if (out) await writeFile(out, text);
  else process.stdout.write(text);
});
