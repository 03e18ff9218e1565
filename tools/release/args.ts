/** Command-line arguments of `npm run release` and `npm run rollback`. */
import type { EnvName } from './types.js';

export const ENV_NAMES: readonly EnvName[] = ['staging', 'production'];

export type ParsedArgs = Record<string, string | boolean>;

/** `--name value`, `--name=value` and bare `--flag`; anything else is an error. */
export function parseArgs(argv: string[], flags: readonly string[], valued: readonly string[]): ParsedArgs {
  const out: ParsedArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    const name = m[1]!;
    if (flags.includes(name)) {
      if (m[2] !== undefined) throw new Error(`--${name} takes no value`);
      out[name] = true;
    } else if (valued.includes(name)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      out[name] = value;
    } else {
      throw new Error(`unknown option --${name}`);
    }
  }
  return out;
}

export function numberArg(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

/**
 * `--env staging|production`, required: there is no default, because a default would send a
 * forgotten `--env` to one environment (production, for a rollback) or to the top-level
 * development Worker (plain wrangler). A missing or unknown value throws; the scripts print their
 * usage and exit 64 (EX_USAGE).
 */
export function envArg(args: ParsedArgs): EnvName {
  const raw = args.env;
  if (raw === undefined) throw new Error(`--env is required (one of ${ENV_NAMES.join(', ')}); there is no default`);
  if (typeof raw !== 'string' || !ENV_NAMES.includes(raw as EnvName)) throw new Error(`--env must be one of ${ENV_NAMES.join(', ')}`);
  return raw as EnvName;
}
