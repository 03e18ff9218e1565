/**
 * `--env` on every wrangler command that reaches Cloudflare. Without it wrangler acts on the
 * top-level Worker of wrangler.toml (the development one), not staging or production: a runbook
 * line that forgot it "rolled back" nothing. So:
 * - the release and rollback scripts refuse to run without `--env` (exit 64 and their usage);
 * - every command line in the repository's docs, workflows, scripts and TypeScript that runs
 *   `wrangler deploy | versions deploy | versions upload | rollback | secret … | triggers deploy |
 *   tail | deployments …` carries `--env`. Allowed without it: `--dry-run` (builds, uploads
 *   nothing) and commands this check does not cover (`wrangler dev`, `versions list` …).
 *
 * What counts as a command line: `npx wrangler …` anywhere; `wrangler <sub> <arguments>`
 * anywhere; a fenced code block's or shell script's line. A bare name in prose or a comment
 * (`wrangler rollback`, no arguments) names the command and is not a command line.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envArg, parseArgs } from '../../tools/release/args.js';

const SUBCOMMANDS = String.raw`(?:deploy|versions\s+(?:deploy|upload)|rollback|secret\s+(?:put|delete|bulk|list)|triggers\s+deploy|tail|deployments\s+(?:list|status|view))`;
/** `[npx ]wrangler <sub>` then the rest of the command, up to a shell separator or the end of a span/string. */
const COMMAND = new RegExp(String.raw`(npx\s+)?\bwrangler\s+(${SUBCOMMANDS})\b([^\`'"|;&\n]*)`, 'g');
/** The argv form in TypeScript: `'wrangler', 'versions', 'deploy', …]`. */
const ARGV = new RegExp(String.raw`['"]wrangler['"]\s*,\s*['"](${SUBCOMMANDS.replaceAll(String.raw`\s+`, String.raw`['"]\s*,\s*['"]`)})['"]([^\]]*)\]`, 'g');

interface Finding {
  file: string;
  line: number;
  command: string;
}

/** Where a piece of text sits, which decides whether a bare `wrangler <sub>` is a command. */
type Context = 'code' | 'prose';

function check(text: string, context: Context, file: string, line: number, out: Finding[]): void {
  for (const m of text.matchAll(COMMAND)) {
    const [whole, npx, , rest = ''] = m;
    const args = rest.trim();
    // In prose only a code span that starts with the command and gives arguments is one.
    const inSpan = text[m.index - 1] === '`';
    const isCommand = context === 'code' || npx !== undefined || (inSpan && args !== '');
    if (!isCommand) continue;
    if (/(^|\s)--(env|dry-run)(?![\w-])/.test(args)) continue;
    out.push({ file, line, command: whole.trim() });
  }
}

/**
 * Commands without `--env` in one file's text. Code: a Markdown fenced block's lines, a shell
 * script's or a YAML file's lines that are not comments (YAML's `run:` blocks are shell). The
 * rest (prose, comments, TypeScript text) is prose.
 */
function findMissingEnv(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  const lines = text.split('\n');
  const markdown = /\.md$/.test(file);
  const script = /\.(sh|ya?ml)$|^\.ci\/run$/.test(file);
  let fenced = false;
  lines.forEach((raw, i) => {
    if (markdown && /^\s*(```|~~~)/.test(raw)) {
      fenced = !fenced;
      return;
    }
    // A comment line that starts with the command (`#   wrangler secret put …`) shows one to run.
    const commentedCommand = /^\s*(#|\/\/|\*)\s*(npx\s+)?wrangler\s/.test(raw);
    const context: Context = (markdown && fenced) || (script && !/^\s*#/.test(raw)) || commentedCommand ? 'code' : 'prose';
    check(raw, context, file, i + 1, out);
  });
  if (/\.ts$/.test(file)) {
    for (const m of text.matchAll(ARGV)) {
      const rest = m[2] ?? '';
      if (/['"]--env['"]/.test(rest) || /['"]--dry-run['"]/.test(rest)) continue;
      out.push({ file, line: text.slice(0, m.index).split('\n').length, command: m[0] });
    }
  }
  return out;
}

const THIS_FILE = 'test/node/ops-wrangler-env.test.ts';

/** Every tracked Markdown, YAML, TypeScript, TOML and shell file (the repository as committed, plus edits). */
function scannedFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && f !== THIS_FILE && !f.startsWith('node_modules/'))
    .filter((f) => /\.(md|ya?ml|ts|toml|sh)$/.test(f) || f === '.ci/run');
}

describe('--env on every wrangler command', () => {
  it('the checker tells commands from names of commands', () => {
    const w = 'wrangler';
    const md = [
      `Run \`npx ${w} rollback -y\` now.`, // npx: a command
      `Then \`${w} versions deploy <id>@100 -y\`.`, // arguments: a command
      `\`${w} rollback\` brings back old code.`, // a bare name: prose
      `\`${w} deploy --dry-run --outdir x\` builds only.`, // dry run: allowed
      `\`npx ${w} secret put NAME --env production\``, // has --env
      `\`npx ${w} tail --env=staging\``, // --env=…
      `\`npx ${w} dev\``, // not covered
      '```sh',
      `${w} triggers deploy`, // code block: a command even bare
      `npx ${w} deployments status | jq .`, // cut at the pipe, still missing
      '```',
    ].join('\n');
    expect(findMissingEnv('x.md', md).map((f) => [f.line, f.command])).toEqual([
      [1, `npx ${w} rollback -y`],
      [2, `${w} versions deploy <id>@100 -y`],
      [9, `${w} triggers deploy`],
      [10, `npx ${w} deployments status`],
    ]);
    const yml = ['# the ' + w + ' rollback step', 'run: |', `  npx ${w} versions upload --tag x`, `  npx ${w} versions upload --env "$E"`].join('\n');
    expect(findMissingEnv('w.yml', yml).map((f) => f.line)).toEqual([3]);
    const ts = [`run(['${w}', 'versions', 'deploy', id, '-y']);`, `run(['${w}', 'rollback', '-y', '--env', env]);`, `x(['${w}', 'deploy', '--dry-run']);`].join('\n');
    expect(findMissingEnv('t.ts', ts).map((f) => f.line)).toEqual([1]);
    expect(findMissingEnv('s.sh', `${w} tail\n# ${w} tail\n# the ${w} tail`).map((f) => f.line)).toEqual([1, 2]);
  });

  it('no file in the repository has a wrangler command without --env', () => {
    const files = scannedFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/runbook.md', 'wrangler.toml', 'tools/release/README.md', 'scripts/rollback.ts']));
    const findings = files.flatMap((f) => findMissingEnv(f, readFileSync(f, 'utf8')));
    expect(findings.map((f) => `${f.file}:${f.line}: ${f.command}`)).toEqual([]);
  });
});

describe('the release scripts require --env', () => {
  it('envArg has no default', () => {
    expect(() => envArg(parseArgs([], [], ['env']))).toThrow(/--env is required .*no default/);
    expect(() => envArg(parseArgs(['--env', 'prod'], [], ['env']))).toThrow(/--env must be one of staging, production/);
    expect(envArg(parseArgs(['--env=staging'], [], ['env']))).toBe('staging');
  });

  for (const script of ['rollback', 'release'] as const) {
    it(`npm run ${script} without --env exits 64 with the usage, touching nothing`, async () => {
      const args = script === 'rollback' ? ['--reason', 'checkout 500s'] : ['--dry-run'];
      const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
        // No Cloudflare credentials and no wrangler on purpose: the argument check comes first.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(64);
      expect(stderr).toMatch(/--env is required/);
      expect(stderr).toMatch(new RegExp(`usage: npm run ${script} -- --env staging\\|production`));
      expect(stdout).toBe('');
    });
  }
});
