/**
 * The Worker build (tools/worker-bundle/build.ts): the copy of src/ that wrangler bundles lacks
 * only documentation. Its routes generate the same document as the source's once descriptions,
 * summaries and examples are taken out of both (so every schema, parameter, status and
 * security requirement, i.e. what validation runs on, is the same); it serves /openapi.json
 * from the prebuilt assets file, byte for byte what the source app serves, and never builds one
 * itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { BUILD_DIR, DOCUMENT_ASSET, buildWorkerSources } from '../../tools/worker-bundle/build.js';
import { documentDeps, openApiText } from '../../tools/openapi/document.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** The document without its documentation: text (description, summary) and examples. */
function undocumented(v: Json): Json {
  if (Array.isArray(v)) return v.map(undocumented);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(['description', 'summary'].includes(k) && typeof x === 'string') && !['example', 'examples'].includes(k)).map(([k, x]) => [k, undocumented(x)]));
}

const CONFIG = { openapi: '3.1.0', info: { title: 't', version: '1' } } as const;
let stripped: typeof createApp;

beforeAll(async () => {
  await buildWorkerSources();
  stripped = ((await import(join(BUILD_DIR, 'src/app.ts'))) as { createApp: typeof createApp }).createApp;
}, 120_000);

describe('the Worker build', () => {
  it('left documentation out, and nothing else', () => {
    const full = createApp(documentDeps()).getOpenAPI31Document(CONFIG) as unknown as Json;
    const lean = stripped(documentDeps()).getOpenAPI31Document(CONFIG) as unknown as Json;
    expect(JSON.stringify(lean).length).toBeLessThan(JSON.stringify(full).length * 0.8);
    expect(undocumented(lean)).toEqual(undocumented(full));
  });

  it('serves the prebuilt document byte for byte, and refuses to build its own', async () => {
    const prebuilt = readFileSync(join(BUILD_DIR, 'assets', DOCUMENT_ASSET), 'utf8');
    expect(prebuilt).toBe(await openApiText());
    const served = await stripped({ ...documentDeps(), prebuiltOpenApi: () => Promise.resolve(prebuilt) }).request('/openapi.json');
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(prebuilt);
    const missing = await stripped({ ...documentDeps(), prebuiltOpenApi: () => Promise.resolve(undefined) }).request('/openapi.json');
    expect(missing.status).toBe(500);
  });
});
