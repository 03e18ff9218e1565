/**
 * The real side of the release tool: runs wrangler, reads git and wrangler.toml, writes the
 * report. Everything here is thin; the decisions live in tools/release/release.ts and
 * tools/release/rollback.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatReport } from './report.js';
import type { CommandRunner, EnvName, ReleaseReport, ReleaseTarget } from './types.js';

const require = createRequire(import.meta.url);

/** Runs the project's pinned wrangler; output is shown live and captured. */
export const spawnWrangler: CommandRunner = (args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('wrangler/bin/wrangler.js'), ...args], {
      stdio: ['inherit', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stderr.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

export function gitInfo(): { sha: string; subject: string } {
  const sha = process.env.GITHUB_SHA ?? execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const subject = execFileSync('git', ['log', '-1', '--format=%s', sha], { encoding: 'utf8' }).trim();
  return { sha, subject };
}

interface WranglerRoute {
  pattern: string;
  custom_domain?: boolean;
}

/** The base URL an environment answers on: its first route, as https. */
export function baseUrlFromRoutes(routes: (string | WranglerRoute)[] | undefined): string | undefined {
  const first = routes?.[0];
  if (!first) return undefined;
  const pattern = typeof first === 'string' ? first : first.pattern;
  const host = pattern.replace(/^https?:\/\//, '').replace(/\/\*?$/, '').replace(/\*$/, '');
  if (!host || host.includes('*')) return undefined;
  return `https://${host.replace(/\/$/, '')}`;
}

/** Worker name and base URL of an environment, as wrangler itself resolves wrangler.toml. */
export async function resolveTarget(env: EnvName, baseUrlOverride?: string): Promise<ReleaseTarget> {
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: 'wrangler.toml', env }, { hideWarnings: true });
  if (!config.name) throw new Error(`wrangler.toml: no worker name for --env ${env}`);
  const baseUrl = baseUrlOverride ?? baseUrlFromRoutes(config.routes as (string | WranglerRoute)[] | undefined);
  if (!baseUrl) throw new Error(`wrangler.toml: [env.${env}] has no route to derive the base URL from; pass --base-url`);
  return { env, workerName: config.name, baseUrl: baseUrl.replace(/\/$/, '') };
}

/** Prints the report, writes it as JSON when asked, and adds it to the GitHub job summary. */
export function publishReport(report: ReleaseReport, reportFile?: string) {
  const text = formatReport(report);
  console.log(text);
  if (reportFile) writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `\n\`\`\`\n${text}\n\`\`\`\n`);
}
