/**
 * `npm run lint:openapi`: lints the app's OpenAPI document with Spectral (`.spectral.yaml`:
 * spectral:oas and the OWASP API Security ruleset, both from installed packages, so it runs
 * offline). The document is built in-process (./document.ts), written to a temporary file and
 * linted there; any result of severity `error` fails. Extra arguments go to `spectral lint`,
 * e.g. `npm run lint:openapi -- --display-only-failures` or `-- -f json`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIfEntryPoint } from '../shared/entry.js';
import { openApiDocument } from './document.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SPECTRAL = createRequire(import.meta.url).resolve('@stoplight/spectral-cli/dist/index.js');

/** Runs Spectral on the current document; resolves to its exit status (0: no errors). */
export async function lintOpenApi(extraArgs: readonly string[] = []): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
    const run = spawnSync(
      process.execPath,
      [SPECTRAL, 'lint', file, '--ruleset', join(ROOT, '.spectral.yaml'), '--fail-severity', 'error', ...extraArgs],
      { cwd: ROOT, stdio: 'inherit' },
    );
    if (run.error) throw run.error;
    return run.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfEntryPoint(import.meta.url, async () => {
  process.exitCode = await lintOpenApi(process.argv.slice(2));
});
