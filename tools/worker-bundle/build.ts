/**
 * The Worker's custom build (wrangler.toml `[build] command`; wrangler runs it before every
 * `wrangler deploy`, `versions upload`, `dev` and `check startup`, and again in `dev` when src/
 * changes), so the document it serves is always built from the code it bundles:
 *
 * 1. .wrangler/worker-build/assets/: the swagger-ui-dist package's files (what `/docs` loads)
 *    and `openapi.json`, the exact bytes the app serves at GET /openapi.json, built here on Node
 *    from the real route definitions (tools/openapi/document.ts). Uploaded as Static Assets, so
 *    its ~450 KiB stay out of the script (`[assets]` in wrangler.toml).
 * 2. .wrangler/worker-build/src/: a copy of src/ with the route definitions' documentation-only
 *    strings removed (tools/worker-bundle/strip-docs.ts) and src/build/docs-stripped.ts set to
 *    true; wrangler bundles `main` from there. The Worker then serves /openapi.json from its
 *    assets (src/app.ts, src/worker.ts) and never generates it.
 *
 * A build whose inputs (src/, these tools, the lockfile: inputsHash) are unchanged is kept, not
 * redone: wrangler 4.86 runs [build] twice per start (workers-sdk#7934), and the Vitest Workers
 * pool (vitest.workers.config.ts) calls it before each run for the assets folder.
 *
 *   npx tsx tools/worker-bundle/build.ts
 */
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { swaggerUiDistDir } from '../../src/platform/node/docs-assets.js';
import { openApiText } from '../openapi/document.js';
import { runIfEntryPoint } from '../shared/entry.js';
import { stripDocs } from './strip-docs.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BUILD_DIR = resolve(ROOT, '.wrangler/worker-build');
/** The name of the prebuilt document among the Worker's assets (src/worker.ts reads it). */
export const DOCUMENT_ASSET = 'openapi.json';

const DOCS_STRIPPED = 'build/docs-stripped.ts';

/** Copies `from` to `to`, each TypeScript module stripped of its documentation strings. */
function copyStripped(from: string, to: string, rel = ''): { files: number; removedBytes: number } {
  mkdirSync(to, { recursive: true });
  let files = 0;
  let removedBytes = 0;
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const path = rel ? `${rel}/${name}` : name;
    if (statSync(src).isDirectory()) {
      const sub = copyStripped(src, dst, path);
      files += sub.files;
      removedBytes += sub.removedBytes;
      continue;
    }
    files++;
    if (path === DOCS_STRIPPED) {
      writeFileSync(dst, readFileSync(src, 'utf8').replace('DOCS_STRIPPED: boolean = false', 'DOCS_STRIPPED: boolean = true'));
    } else if (name.endsWith('.ts')) {
      const text = readFileSync(src, 'utf8');
      const stripped = stripDocs(text, src);
      removedBytes += text.length - stripped.length;
      writeFileSync(dst, stripped);
    } else {
      cpSync(src, dst);
    }
  }
  return { files, removedBytes };
}

/** Every file under `dir`, sorted (relative paths). */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel))
    .sort()
    .flatMap((name) => {
      const path = rel ? `${rel}/${name}` : name;
      return statSync(join(dir, path)).isDirectory() ? filesUnder(dir, path) : [path];
    });
}

/**
 * What the build is made from: every file of src/, this tool and the document's, and the lockfile
 * (the installed zod, zod-to-openapi and swagger-ui-dist). wrangler runs [build] more than once
 * per start (`dev`, unstable_startWorker); an unchanged input set is not built again.
 */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (path: string) => hash.update(path).update('\0').update(readFileSync(resolve(ROOT, path))).update('\0');
  for (const file of filesUnder(resolve(ROOT, 'src'))) add(`src/${file}`);
  for (const file of ['tools/worker-bundle/build.ts', 'tools/worker-bundle/strip-docs.ts', 'tools/openapi/document.ts', 'package-lock.json']) add(file);
  return hash.digest('hex');
}

const HASH_FILE = 'inputs.sha256';

/** Builds .wrangler/worker-build (see the module comment); written beside and swapped in, so a failed build leaves no half. */
export async function buildWorkerSources(): Promise<{ files: number; removedBytes: number; documentBytes: number } | 'unchanged'> {
  const inputs = inputsHash();
  const hashPath = join(BUILD_DIR, HASH_FILE);
  if (existsSync(hashPath) && readFileSync(hashPath, 'utf8') === inputs) return 'unchanged';
  const document = await openApiText();
  // Built aside under a name of its own, then renamed into place: `npm test` runs the Node and the
  // Workers projects side by side (tools/test/run.ts), and both may build at once.
  const next = `${BUILD_DIR}.next-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    cpSync(swaggerUiDistDir(), join(next, 'assets'), { recursive: true, dereference: true });
    writeFileSync(join(next, 'assets', DOCUMENT_ASSET), document);
    const copied = copyStripped(resolve(ROOT, 'src'), join(next, 'src'));
    if (readFileSync(join(next, 'src', DOCS_STRIPPED), 'utf8').includes('= false')) throw new Error(`${DOCS_STRIPPED}: the flag was not set`);
    writeFileSync(join(next, HASH_FILE), inputs);
    const current = () => existsSync(hashPath) && readFileSync(hashPath, 'utf8') === inputs;
    if (!current()) {
      // A stale build is moved away whole and this one moved in right after (two renames), so a
      // reader sees a whole build or, for that instant, none; the old one is deleted afterwards.
      const old = `${BUILD_DIR}.old-${process.pid}-${randomUUID().slice(0, 8)}`;
      try {
        renameSync(BUILD_DIR, old);
      } catch {
        // none, or another build moved it first
      }
      try {
        renameSync(next, BUILD_DIR);
      } catch (err) {
        if (!current()) throw err; // another build of the same inputs got there first: the same files
      } finally {
        rmSync(old, { recursive: true, force: true });
      }
    }
    return { ...copied, documentBytes: Buffer.byteLength(document) };
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
}

runIfEntryPoint(import.meta.url, async () => {
  const r = await buildWorkerSources();
  if (r === 'unchanged') {
    process.stdout.write('worker build: its inputs are unchanged since the last build, kept\n');
    return;
  }
  process.stdout.write(
    `worker build: ${r.files} files in .wrangler/worker-build/src (${(r.removedBytes / 1024).toFixed(0)} KiB of documentation strings left out), openapi.json ${(r.documentBytes / 1024).toFixed(0)} KiB in its assets\n`,
  );
});
