/**
 * What `npm run bench` measures without load: the Worker bundle (wrangler's dry run), the
 * Worker's global-scope startup (wrangler check startup's CPU profile, against a hello-world's),
 * and one Argon2id verify on Node.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createPasswordHasher } from '../../src/auth/password.js';
import { loadArgon2idKernel } from '../../src/auth/argon2-node.mjs';
import { median, runCommand } from './lib.js';
import { TMP } from './node.js';

export interface BundleSize {
  /** wrangler's own "Total Upload: X KiB / gzip: Y KiB". */
  uploadKiB: number;
  gzipKiB: number;
  /** worker.js alone, measured here. */
  scriptKiB: number;
  scriptGzipKiB: number;
  /** What each package costs in worker.js, largest (gzip) first. */
  packages: PackageSize[];
}

export interface PackageSize {
  /** npm package name, or APP for this repository's own code. */
  name: string;
  /** Minified bytes in worker.js, from esbuild's metafile (exact), KiB. */
  kib: number;
  /** The same code gzipped on its own (its text cut out of worker.js through the source map), KiB. */
  gzipKiB: number;
}

/** The row name for this repository's own code (src/). */
export const APP = 'app (src/)';

/** `wrangler deploy --dry-run --outdir` as configured (plus `extra` flags, e.g. --minify), with esbuild's metafile. */
export async function bundleSize(name: string, extra: string[] = []): Promise<BundleSize> {
  const { outdir, uploadKiB, gzipKiB } = await buildBundle(name, extra);
  const script = readFileSync(resolve(outdir, 'worker.js'));
  return { uploadKiB, gzipKiB, scriptKiB: script.length / 1024, scriptGzipKiB: gzipSync(script).length / 1024, packages: packageSizes(outdir) };
}

/** The dry run into TMP/name: worker.js, worker.js.map and meta.json (esbuild's metafile), and wrangler's totals. */
async function buildBundle(name: string, extra: string[] = []): Promise<{ outdir: string; uploadKiB: number; gzipKiB: number }> {
  const outdir = resolve(TMP, name);
  rmSync(outdir, { recursive: true, force: true });
  const out = await runCommand('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '--metafile', resolve(outdir, 'meta.json'), ...extra]);
  const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(out);
  if (!m) throw new Error(`no "Total Upload" in wrangler's output:\n${out.slice(-2000)}`);
  return { outdir, uploadKiB: Number(m[1]), gzipKiB: Number(m[2]) };
}

/**
 * The package a file belongs to: the folder after the last `node_modules/` (scoped: two), else the
 * app. A package that ships source maps of its own (drizzle-orm) is mapped back to paths like
 * `node_modules/src/…`, which name no package: `shipped` (file path without extension → package,
 * from the metafile's inputs) resolves those.
 */
export function packageOf(path: string, shipped: ReadonlyMap<string, string> = new Map()): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return APP;
  const rest = path.slice(at + 13);
  const parts = rest.split('/');
  const name = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  if (!shipped.size || [...shipped.values()].includes(name)) return name;
  const inner = rest.slice(name.length + 1).replace(/\.[cm]?[jt]sx?$/, '');
  for (const [file, pkg] of shipped) if (file.endsWith(`/${inner}`)) return pkg;
  return name;
}

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

/** Input file (without extension) → package, for every node_modules input of worker.js. */
function shippedFiles(meta: Metafile): Map<string, string> {
  const out = new Map<string, string>();
  const worker = Object.entries(meta.outputs).find(([k]) => k.endsWith('worker.js'))?.[1];
  for (const input of Object.keys(worker?.inputs ?? {})) {
    if (!input.includes('node_modules/')) continue;
    out.set(input.replace(/\.[cm]?[jt]sx?$/, ''), packageOf(input));
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source map's mappings, decoded: for each generated line, the segments' start columns and source indexes. */
export interface DecodedMap {
  sources: string[];
  lines: Array<{ columns: number[]; sources: number[] }>;
}

export function decodeMappings(map: { sources: string[]; mappings: string }): DecodedMap {
  let source = 0;
  const lines = map.mappings.split(';').map((line) => {
    const columns: number[] = [];
    const sources: number[] = [];
    let column = 0;
    for (const segment of line ? line.split(',') : []) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >> 1) : value >> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0] ?? 0;
      if (fields.length > 1) source += fields[1]!;
      columns.push(column);
      sources.push(source);
    }
    return { columns, sources };
  });
  return { sources: map.sources, lines };
}

/** The source of generated position (0-based line and column): the last segment starting at or before it. */
export function sourceAt(map: DecodedMap, line: number, column: number): string | undefined {
  const l = map.lines[line];
  if (!l || l.columns.length === 0) return undefined;
  let lo = 0;
  let hi = l.columns.length - 1;
  if (column < l.columns[0]!) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (l.columns[mid]! <= column) lo = mid;
    else hi = mid - 1;
  }
  return map.sources[l.sources[lo]!];
}

function readBundle(outdir: string): { text: string; map: DecodedMap; shipped: Map<string, string>; meta: Metafile } {
  const meta = JSON.parse(readFileSync(resolve(outdir, 'meta.json'), 'utf8')) as Metafile;
  const map = decodeMappings(JSON.parse(readFileSync(resolve(outdir, 'worker.js.map'), 'utf8')) as { sources: string[]; mappings: string });
  return { text: readFileSync(resolve(outdir, 'worker.js'), 'utf8'), map, shipped: shippedFiles(meta), meta };
}

/** Per package: minified KiB from the metafile, and gzip KiB of its own text (cut out through the source map). */
export function packageSizes(outdir: string): PackageSize[] {
  const { text, map, shipped, meta } = readBundle(outdir);
  const raw = new Map<string, number>();
  const worker = Object.entries(meta.outputs).find(([k]) => k.endsWith('worker.js'))?.[1];
  for (const [input, { bytesInOutput }] of Object.entries(worker?.inputs ?? {})) {
    const name = packageOf(input);
    raw.set(name, (raw.get(name) ?? 0) + bytesInOutput);
  }
  const pieces = new Map<string, string[]>();
  text.split('\n').forEach((line, i) => {
    const m = map.lines[i];
    if (!m) return;
    for (let s = 0; s < m.columns.length; s++) {
      const name = packageOf(map.sources[m.sources[s]!] ?? '', shipped);
      const list = pieces.get(name) ?? [];
      list.push(line.slice(m.columns[s], m.columns[s + 1] ?? line.length + 1));
      pieces.set(name, list);
    }
  });
  return [...raw]
    .map(([name, bytes]) => ({ name, kib: bytes / 1024, gzipKiB: gzipSync((pieces.get(name) ?? []).join('')).length / 1024 }))
    .sort((a, b) => b.gzipKiB - a.gzipKiB || b.kib - a.kib);
}

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** CPU time the profile spent in anything but (idle), ms: each sample owns the time until the next one. */
export function busyMs(profilePath: string): number {
  return Object.values(attributeProfile(JSON.parse(readFileSync(profilePath, 'utf8')) as Profile, () => 'all')).reduce((a, b) => a + b, 0);
}

/** Not a package: the bundle's own top level (every module body runs in it; parse and compile too). */
export const TOP_LEVEL = '(bundle top level: module bodies, compile)';
/** Functions of worker.js that no source maps to: esbuild's helpers (__name, __esm, __commonJS, …). */
export const HELPERS = '(bundler helpers)';
const ENGINE = new Set(['(garbage collector)', '(program)', '(root)']);

/**
 * CPU ms per name: each sample's time (until the next sample) goes to the function it was in,
 * named by `nameOf` from its position in worker.js (self time: a library function called from
 * app code counts for the library). A built-in (Object.defineProperty, a RegExp…) counts for the
 * nearest caller in worker.js. Samples in (idle) count for nothing; the engine's own entries
 * ((garbage collector), (program)) keep their names.
 */
export function attributeProfile(p: Profile, nameOf: (line: number, column: number) => string): Record<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id: number): string => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return '(unknown)';
    if (ENGINE.has(frame.functionName)) return frame.functionName;
    if (!frame.url) {
      const up = parent.get(id);
      return up === undefined ? frame.functionName || '(native)' : name(up);
    }
    return frame.lineNumber < 0 ? TOP_LEVEL : nameOf(frame.lineNumber, frame.columnNumber);
  };
  const out: Record<string, number> = {};
  for (let i = 0; i < p.samples.length - 1; i++) {
    const id = p.samples[i]!;
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const n = name(id);
    out[n] = (out[n] ?? 0) + p.timeDeltas[i + 1]! / 1000;
  }
  return out;
}

const HELLO_WORKER = `export default { fetch: () => new Response('Hello World!') };\n`;

export interface Startup {
  /** Global-scope CPU of the app Worker (best of the runs), ms. */
  appMs: number;
  /** The same for a hello-world Worker: the floor of the method on this machine. */
  helloMs: number;
  runs: number;
  /**
   * CPU by package (self time, see attributeProfile), ms, largest first: each package's least over
   * the runs. On a loaded machine a descheduled moment lands on whatever package was running in
   * one run; its least is the robust figure (so the rows add up to a little less than appMs).
   */
  byPackage: Array<[string, number]>;
}

/**
 * `wrangler check startup` (the CPU profile of the Worker's global scope in local workerd), best
 * of `runs`, attributed per package through the source map of a dry run of the same
 * configuration (esbuild's output is deterministic, so its positions are the profiled bundle's).
 */
export async function startupTime(runs: number): Promise<Startup> {
  const helloDir = resolve(TMP, 'hello-worker');
  mkdirSync(helloDir, { recursive: true });
  writeFileSync(resolve(helloDir, 'worker.js'), HELLO_WORKER);
  writeFileSync(resolve(helloDir, 'wrangler.toml'), 'name = "bench-hello"\nmain = "worker.js"\ncompatibility_date = "2026-04-20"\n');
  // `--cwd`, not `-c`: check startup builds whatever Worker the working directory holds.
  const profile = async (cwd: string, name: string) => {
    const out = resolve(TMP, `${name}.cpuprofile`);
    await runCommand('npx', ['wrangler', 'check', 'startup', '--cwd', cwd, '--outfile', out]);
    return JSON.parse(readFileSync(out, 'utf8')) as Profile;
  };
  const { outdir } = await buildBundle('startup-bundle');
  const { map, shipped } = readBundle(outdir);
  const nameOf = (line: number, column: number) => {
    const source = sourceAt(map, line, column);
    return source === undefined ? HELPERS : packageOf(source, shipped);
  };
  const total = (byName: Record<string, number>) => Object.values(byName).reduce((x, y) => x + y, 0);
  const app: Array<Record<string, number>> = [];
  const hello: number[] = [];
  for (let i = 0; i < runs; i++) {
    app.push(attributeProfile(await profile(resolve('.'), 'startup-app'), nameOf));
    hello.push(total(attributeProfile(await profile(helloDir, 'startup-hello'), () => 'hello')));
  }
  // A package absent from a run's profile cost less than one sample there.
  const names = new Set(app.flatMap((r) => Object.keys(r)));
  const byPackage = [...names].map((n): [string, number] => [n, Math.min(...app.map((r) => r[n] ?? 0))]).sort((x, y) => y[1] - x[1]);
  return { appMs: Math.min(...app.map(total)), helloMs: Math.min(...hello), runs, byPackage };
}

/**
 * One login's hashing on Node: Argon2id verify with the stored (OWASP) parameters. V8 tiers the
 * wasm up only after several calls, so both the first verify of a fresh process and the steady
 * state (median after `warmup` calls) are reported.
 */
export async function argon2OnNode(samples: number, warmup = 12): Promise<{ firstMs: number; steadyMs: number }> {
  const hasher = createPasswordHasher(loadArgon2idKernel);
  const phc = await hasher.hash('bench password 123');
  const time = async () => {
    const t = performance.now();
    await hasher.verify('bench password 123', phc);
    return performance.now() - t;
  };
  const firstMs = await time();
  for (let i = 1; i < warmup; i++) await time();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await time());
  return { firstMs, steadyMs: median(times) };
}
