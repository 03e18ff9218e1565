/**
 * `npm run openapi:client`: writes the OpenAPI document and the TypeScript client's types
 * (tools/openapi/client-files.ts) into clients/. Run it after changing a route, a schema or a
 * description; test/node/generated-client-files.test.ts fails while the committed files are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClientFiles, CLIENT_FILES } from './client-files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = await buildClientFiles();
for (const key of Object.keys(CLIENT_FILES) as Array<keyof typeof CLIENT_FILES>) {
  const path = resolve(root, CLIENT_FILES[key]);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, files[key]);
  console.log(`wrote ${CLIENT_FILES[key]} (${Buffer.byteLength(files[key])} bytes)`);
}
