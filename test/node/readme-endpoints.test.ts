/**
 * The README's "Where each endpoint lives" table is how a newcomer finds an endpoint's route,
 * handler, operation and tests: it must list every operation of /openapi.json exactly once, and
 * every name in it must exist where it says (the module's routes.ts declares the path and the
 * named handler, registers that handler, and the operation and journey files exist).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../support/openapi-walk.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

const ROOT = join(import.meta.dirname, '../..');
const HEADER = '| endpoint | module | handler | operation | journeys |';

interface Row {
  key: string;
  module: string;
  handler: string;
  operation: string;
  journeys: string[];
}

/** The table's rows, cells unwrapped from their backticks. */
function readmeRows(): Row[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.indexOf(HEADER);
  if (start < 0) throw new Error(`README.md has no table headed ${HEADER}`);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [key, module, handler, operation, journeys] = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim().replaceAll('`', ''));
    rows.push({ key: key!, module: module!, handler: handler!, operation: operation!, journeys: journeys!.split(',').map((j) => j.trim()) });
  }
  return rows;
}

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('README: where each endpoint lives', () => {
  it('lists every operation of /openapi.json once, and nothing else', async () => {
    const doc = (await t.api.get('/openapi.json')).body;
    const documented = operations(doc).map((o) => o.key).sort();
    const listed = readmeRows().map((r) => r.key);
    expect(documented.length).toBeGreaterThan(40);
    expect(new Set(listed).size, 'an endpoint is listed twice').toBe(listed.length);
    expect([...listed].sort()).toEqual(documented);
  });

  it('names a module, handler, operation file and journeys that exist', () => {
    const problems: string[] = [];
    for (const row of readmeRows()) {
      const [, path] = row.key.split(' ');
      const dir = join(ROOT, 'src/modules', row.module);
      const routesFile = join(dir, 'routes.ts');
      if (!existsSync(routesFile)) {
        problems.push(`${row.key}: no ${routesFile}`);
        continue;
      }
      // routes.ts, and any `<part>-routes.ts` beside it (auth: recovery-routes.ts).
      const routes = readdirSync(dir)
        .filter((f) => f === 'routes.ts' || f.endsWith('-routes.ts'))
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('\n');
      if (!routes.includes(`'${path}'`)) problems.push(`${row.key}: ${row.module}/routes.ts does not declare '${path}'`);
      if (!new RegExp(`const ${row.handler}\\b[^=]*=`).test(routes)) problems.push(`${row.key}: ${row.module}/routes.ts has no handler ${row.handler}`);
      if (!new RegExp(`\\.openapi\\(\\w+, ${row.handler}\\)`).test(routes)) problems.push(`${row.key}: ${row.handler} is not registered`);
      if (!row.operation.startsWith('(')) {
        for (const file of row.operation.split('→').map((f) => f.trim())) {
          const at = file.includes('/') ? join(ROOT, 'src/modules', file) : join(dir, file);
          if (!existsSync(at)) problems.push(`${row.key}: no operation file ${file}`);
        }
      }
      for (const journey of row.journeys) {
        if (!existsSync(join(ROOT, 'test/journeys', `${journey}.ts`))) problems.push(`${row.key}: no test/journeys/${journey}.ts`);
      }
    }
    expect(problems).toEqual([]);
  });
});
