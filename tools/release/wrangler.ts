/**
 * What the release tool says to wrangler and reads back: the output of `versions upload` and
 * `deployments status --json` (wrangler 4.x), the `versions deploy` arguments for a traffic
 * split, and the short texts that go into version messages and the report.
 */
import type { EnvName } from './types.js';

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** `wrangler versions upload` prints `Worker Version ID: <uuid>` (wrangler 4.x). */
export function parseUploadedVersionId(stdout: string): string | undefined {
  return new RegExp(`Worker Version ID:\\s*(${UUID.source})`).exec(stdout)?.[1];
}

export interface DeploymentVersion {
  version_id: string;
  percentage: number;
}

/** `wrangler deployments status --env <env> --json`: the API's deployment object, `versions` included. */
export function parseDeploymentStatus(stdout: string): DeploymentVersion[] | undefined {
  const start = stdout.indexOf('{');
  const end = stdout.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const parsed = JSON.parse(stdout.slice(start, end + 1)) as { versions?: unknown };
    if (!Array.isArray(parsed.versions)) return undefined;
    return parsed.versions.filter(
      (v): v is DeploymentVersion =>
        typeof v === 'object' && v !== null && typeof (v as DeploymentVersion).version_id === 'string' && typeof (v as DeploymentVersion).percentage === 'number',
    );
  } catch {
    return undefined;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The end of a command's output, without colours or blank lines, for the report. */
export function lastLines(text: string, n = 6): string {
  return text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

export function deployArgs(env: EnvName, split: [string, number][], message: string): string[] {
  return ['versions', 'deploy', ...split.map(([id, p]) => `${id}@${p}`), '-y', '--message', message, '--env', env];
}

/** Cloudflare keeps version messages short; wrangler's rollback prompt says 120 characters. */
export function shortMessage(text: string, max = 100): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
