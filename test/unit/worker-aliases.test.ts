/**
 * wrangler.toml's `[alias]` swaps a module by its import specifier, in whatever package imports it.
 * The zod stand-ins (src/build/zod-no-*.ts) are only right for zod's own imports: this checks that
 * no other runtime dependency imports those specifiers, so an upgrade cannot silently hand a stub
 * to another package.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const aliases = [...readFileSync('wrangler.toml', 'utf8').matchAll(/^"([^"]+)" = "\.\/src\/build\/[^"]+"$/gm)].map((m) => m[1]!);
/** The runtime dependencies and theirs, as installed (npm's flat node_modules). */
function runtimeDependencies(): string[] {
  const seen = new Set<string>();
  const visit = (pkgJson: string) => {
    const deps = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const dep of Object.keys(deps)) {
      if (seen.has(dep) || !existsSync(join('node_modules', dep, 'package.json'))) continue;
      seen.add(dep);
      visit(join('node_modules', dep, 'package.json'));
    }
  };
  visit('package.json');
  return [...seen];
}
const dependencies = runtimeDependencies();

function* scripts(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules') yield* scripts(path);
    } else if (/\.(m?js|cjs)$/.test(name)) yield path;
  }
}

describe("wrangler's module aliases", () => {
  it('name the zod stand-ins, and nothing but zod imports those specifiers', () => {
    expect(aliases).toEqual(expect.arrayContaining(['../locales/index.js', './from-json-schema.js', './compile.js']));
    const importers: string[] = [];
    for (const dep of dependencies) {
      for (const file of scripts(join('node_modules', dep))) {
        const text = readFileSync(file, 'utf8');
        for (const spec of aliases) if (text.includes(`"${spec}"`) || text.includes(`'${spec}'`)) importers.push(`${dep}: ${file} imports ${spec}`);
      }
    }
    expect(importers.filter((line) => !line.startsWith('zod: '))).toEqual([]);
    expect(importers.length).toBeGreaterThan(0);
  });
});
