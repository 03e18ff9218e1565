/**
 * wrangler.toml's `[alias]` swaps a module by its import specifier, in whatever package imports it.
 * The zod stand-ins (src/build/zod-no-*.ts) are only right for zod's own imports, the stripe ones
 * (src/build/stripe-*.ts) for stripe's: this checks that no other runtime dependency imports those
 * specifiers, so an upgrade cannot silently hand a stub to another package.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const aliases = [...readFileSync('wrangler.toml', 'utf8').matchAll(/^"([^"]+)" = "\.\/src\/build\/([^"]+)"$/gm)].map((m) => ({ spec: m[1]!, stub: m[2]! }));
/** The package a stand-in is written for, from its file name (zod-no-*.ts, stripe-*.ts). */
const ownerOf = (stub: string) => stub.split('-')[0]!;
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
  it('name the zod and stripe stand-ins, and only the package each is for imports its specifiers', () => {
    const specs = aliases.map((a) => a.spec);
    expect(specs).toEqual(expect.arrayContaining(['../locales/index.js', './from-json-schema.js', './compile.js', './resources.js', './resources/Accounts.js']));
    expect(new Set(aliases.map((a) => ownerOf(a.stub)))).toEqual(new Set(['zod', 'stripe']));
    const importers: { dep: string; owner: string; line: string }[] = [];
    for (const dep of dependencies) {
      for (const file of scripts(join('node_modules', dep))) {
        const text = readFileSync(file, 'utf8');
        for (const { spec, stub } of aliases) {
          if (text.includes(`"${spec}"`) || text.includes(`'${spec}'`)) importers.push({ dep, owner: ownerOf(stub), line: `${dep}: ${file} imports ${spec}` });
        }
      }
    }
    expect(importers.filter((i) => i.dep !== i.owner).map((i) => i.line)).toEqual([]);
    expect(new Set(importers.map((i) => i.dep))).toEqual(new Set(['zod', 'stripe']));
  });
});
