import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * What the Worker evaluates at global scope (the startup budget, `npm run bench -- --only=startup`):
 * the modules src/worker.ts reaches through static, value imports. The HTTP app (`import('./app.js')`),
 * the jobs and the dispatcher (imported by `scheduled()` / `queue()`) are loaded on first use, so a
 * fetch isolate never evaluates the jobs, and no isolate evaluates the OpenAPI layer
 * (@hono/zod-openapi and zod-to-openapi) before its first request. One static import from the wrong
 * module puts a whole subtree back at global scope without any test failing, which is what this
 * test is for: it walks the graph as esbuild would bundle it.
 */
const ROOT = resolve(import.meta.dirname, '../..');

interface Graph {
  files: Set<string>;
  packages: Map<string, string>; // package → the first file that imports it
}

/**
 * Runtime imports of a module: all but `import type` / `export type` declarations. An import whose
 * every named binding is an inline `type` one (`import { type X } from 'y'`) still counts: under
 * `verbatimModuleSyntax` (tsconfig.json) TypeScript and esbuild keep it as `import {} from 'y'`,
 * which evaluates 'y'.
 */
function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node)) {
      if (node.importClause?.isTypeOnly) continue;
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

function staticGraph(entry: string): Graph {
  const graph: Graph = { files: new Set(), packages: new Map() };
  const visit = (file: string) => {
    if (graph.files.has(file)) return;
    graph.files.add(file);
    for (const spec of runtimeSpecifiers(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
        continue; // .wasm and other assets
      }
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!graph.packages.has(pkg)) graph.packages.set(pkg, file.slice(ROOT.length + 1));
    }
  };
  visit(entry);
  return graph;
}

describe('the Worker global scope (src/worker.ts static imports)', () => {
  const graph = staticGraph(resolve(ROOT, 'src/worker.ts'));
  const files = [...graph.files].map((f) => f.slice(ROOT.length + 1));

  it('reaches the runtime the handlers need, and the walk sees through re-exports', () => {
    // A check that could not fail would pass on an empty graph: these must be found.
    expect(files).toEqual(expect.arrayContaining(['src/worker.ts', 'src/config.ts', 'src/db/neon.ts', 'src/auth/id-tokens.ts']));
    expect([...graph.packages.keys()]).toEqual(expect.arrayContaining(['@neondatabase/serverless', 'drizzle-orm', 'jose', 'zod']));
  });

  it('does not load the OpenAPI layer (the app loads it on its first request)', () => {
    for (const pkg of ['@hono/zod-openapi', '@asteasolutions/zod-to-openapi', '@hono/zod-validator']) {
      expect(graph.packages.get(pkg), `${pkg} is imported at global scope by ${graph.packages.get(pkg)}`).toBeUndefined();
    }
  });

  it('does not evaluate the app, the jobs or the dispatcher (imported by fetch, scheduled and queue on first use)', () => {
    for (const lazy of ['src/app.ts', 'src/modules/payments/jobs.ts', 'src/modules/payments/exclusive.ts', 'src/notifications/dispatch.ts', 'src/notifications/queue.ts', 'src/http/schemas.ts', 'src/http/problem-docs.ts']) {
      expect(files, `${lazy} is reached from src/worker.ts by static imports`).not.toContain(lazy);
    }
  });
});

describe('the Stripe SDK (loaded by src/payments/stripe.ts on the first call that needs it)', () => {
  // Most requests never reach Stripe: neither the Worker's global scope nor the app (what a fetch
  // isolate evaluates on its first request) may import the SDK's module as a value. Its types are free.
  // Each entry with a module of its graph that uses Stripe (so the walk is known to get there).
  const entries = { 'src/worker.ts': 'src/payments/stripe.ts', 'src/node.ts': 'src/payments/stripe.ts', 'src/app.ts': 'src/modules/payments/refund.ts' };
  for (const [entry, user] of Object.entries(entries)) {
    it(`is not a static value import of ${entry}'s graph`, () => {
      const graph = staticGraph(resolve(ROOT, entry));
      expect(graph.files).toContain(resolve(ROOT, user));
      expect(graph.packages.get('stripe'), `stripe is imported as a value by ${graph.packages.get('stripe')}`).toBeUndefined();
    });
  }
});
