/**
 * src/db/schema*.ts and migrations/ describe the same database: drizzle-kit, asked to generate
 * the next migration from a copy of migrations/, finds nothing to do. A schema change that
 * forgot `npm run db:generate` (or a migration edited by hand away from the schema) fails here
 * instead of on the first deploy.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'schema-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('schema and migrations', () => {
  it('drizzle-kit generate finds no schema change to migrate', async () => {
    cpSync(join(root, 'migrations'), join(dir, 'migrations'), { recursive: true });
    const config = join(dir, 'drizzle.config.ts');
    writeFileSync(
      config,
      `export default { dialect: 'postgresql', schema: ${JSON.stringify(join(root, 'src/db/schema.ts'))}, out: './migrations', strict: true };\n`,
    );
    const before = readdirSync(join(dir, 'migrations')).sort();
    const { stdout, stderr } = await promisify(execFile)(join(root, 'node_modules/.bin/drizzle-kit'), ['generate', '--config=drizzle.config.ts'], { cwd: dir, timeout: 120_000 });
    const said = stdout + stderr;
    expect(readdirSync(join(dir, 'migrations')).sort(), said).toEqual(before);
    expect(said).toMatch(/No schema changes/);
  });
});
