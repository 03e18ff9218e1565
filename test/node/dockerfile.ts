/**
 * Just enough of a Dockerfile and .dockerignore reader for the tests that reproduce the
 * image without Docker (test/node/docker-runtime.test.ts) and check the manifests against it
 * (test/node/deploy-manifests.test.ts).
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  op: string;
  args: string;
  /** `--name=value` flags (COPY --from, HEALTHCHECK --interval …). */
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  let pending = '';
  let startLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!pending && (/^\s*#/.test(raw) || !raw.trim())) continue;
    if (!pending) startLine = i + 1;
    if (/\\\s*$/.test(raw)) {
      pending += `${raw.replace(/\\\s*$/, '')} `;
      continue;
    }
    const full = (pending + raw).trim();
    pending = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    let args = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (;;) {
      const f = /^--([a-z-]+)=(\S+)\s+/.exec(args);
      if (!f) break;
      flags[f[1]!] = f[2]!;
      args = args.slice(f[0].length);
    }
    if (op === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), from: image!, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${startLine}: ${op} before FROM`);
    stage.instructions.push({ op, args, flags, line: startLine });
  }
  return stages;
}

export function readDockerfile(path = 'Dockerfile'): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** `["node", "dist/src/node.js"]` → argv; shell form is refused (no signal forwarding). */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed as string[];
}

/** ARG defaults and ENV values of a stage, in order, with ${VAR} substituted. */
export function stageEnv(stage: Stage): Record<string, string> {
  const vars: Record<string, string> = {};
  const subst = (v: string) => v.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => vars[a ?? b] ?? '');
  for (const ins of stage.instructions) {
    if (ins.op !== 'ENV' && ins.op !== 'ARG') continue;
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      vars[m[1]!] = subst(m[2]!.replace(/^"|"$/g, ''));
    }
  }
  return vars;
}

/** COPY [--from=stage] src… dest, as (from, sources, dest). */
export function copies(stage: Stage): { from: string | undefined; sources: string[]; dest: string }[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const parts = i.args.split(/\s+/);
      const dest = parts.pop()!;
      return { from: i.flags.from, sources: parts, dest };
    });
}

export function workdir(stage: Stage): string {
  return stage.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
}

/** .dockerignore semantics for plain patterns: relative to the context root, `*` within a segment, `**` across. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = pattern
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
    return ignored;
  };
}
