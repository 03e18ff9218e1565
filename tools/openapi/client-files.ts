/**
 * The generated TypeScript client's files, built in-process: the app is created with a test
 * configuration, its `GET /openapi.json` is read through `app.request` (no server, no network),
 * and openapi-typescript's Node API turns that document into `clients/typescript/schema.d.ts`.
 *
 * Written by `npm run openapi:client` (tools/openapi/generate-client.ts); the committed copies are
 * compared against a fresh build by test/node/generated-client-files.test.ts.
 */
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createPostgresDatabase } from '../../src/db/node-postgres.js';
import { createMemoryLogger } from '../../src/logger.js';
import { createNodeDeps } from '../../src/platform/node/deps.js';

/** Repository-relative paths of the committed files, in the order they are written. */
export const CLIENT_FILES = {
  /** The document as served at /openapi.json, for generators that read a file (the Flutter team's Dart generator). */
  document: 'clients/openapi.json',
  /** openapi-typescript's `paths` / `components` / `operations` types, used with openapi-fetch. */
  types: 'clients/typescript/schema.d.ts',
} as const;

export type ClientFiles = Record<keyof typeof CLIENT_FILES, string>;

/**
 * Serving the document touches no database, so the app gets a node-postgres pool that is never
 * used: pg connects on the first query only, and this address refuses one (an embedded PGlite
 * took 2–13 s just to start).
 */
const NO_DATABASE = 'postgres://openapi-document@127.0.0.1:1/unused';

/** The document exactly as `GET /openapi.json` answers it (the route declarations are static; the configuration only has to load). */
export async function buildOpenApiDocument(): Promise<OpenAPI3> {
  const database = createPostgresDatabase(NO_DATABASE, { max: 1 });
  const deps = createNodeDeps(loadConfig({ APP_ENV: 'test' }), { database, logger: createMemoryLogger() });
  try {
    const res = await createApp(deps).request('/openapi.json');
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as OpenAPI3; // openapi-typescript validates it (through Redocly) before it generates anything
  } finally {
    await deps.passwords.close?.();
    await database.close();
  }
}

/** Both files' contents, byte for byte what is committed when nothing is stale. */
export async function buildClientFiles(): Promise<ClientFiles> {
  const document = await buildOpenApiDocument();
  // defaultNonNullable off: a request field with a `default` (CreateZoneRequest.active) may be
  // left out, as the document's `required` says; openapi-typescript's default makes it required.
  const ast = await openapiTS(document, { silent: true, defaultNonNullable: false });
  return {
    document: `${JSON.stringify(document, null, 2)}\n`,
    types: `${COMMENT_HEADER}${astToString(ast)}`,
  };
}
