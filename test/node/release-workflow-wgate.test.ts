/**
 * The Worker release workflow's steps around the gate (issue 15, release gates on real traffic):
 * the synthetic customer the smoke test orders as is set up after the migrations and before the
 * release, with its secrets in that step's env only.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

type Step = { name?: string; run?: string; uses?: string; env?: Record<string, string> };
const workflow = parseYaml(readFileSync('.github/workflows/worker-release.yml', 'utf8')) as { jobs: { release: { env?: Record<string, string>; steps: Step[] } } };
const job = workflow.jobs.release;
const at = (re: RegExp) => job.steps.findIndex((s) => re.test(s.run ?? ''));

describe('worker-release.yml: the synthetic customer', () => {
  it('runs synthetic-setup after the migrations and before the release, with DATABASE_URL and the smoke secrets in that step only', () => {
    const setup = job.steps[at(/npm run cli -- synthetic-setup/)]!;
    expect(setup.run).toBe('npm run cli -- synthetic-setup --email "$SMOKE_EMAIL" --password "$SMOKE_PASSWORD"');
    expect(setup.env).toEqual({
      DATABASE_URL: '${{ secrets.DATABASE_URL }}',
      SMOKE_EMAIL: '${{ secrets.SMOKE_EMAIL }}',
      SMOKE_PASSWORD: '${{ secrets.SMOKE_PASSWORD }}',
    });
    expect(at(/npm run db:migrate/)).toBeLessThan(at(/synthetic-setup/));
    expect(at(/synthetic-setup/)).toBeLessThan(at(/npm run release -- --env/));
    // Secrets stay in the steps that need them, never the job's env.
    expect(Object.keys(job.env ?? {})).not.toEqual(expect.arrayContaining(['SMOKE_EMAIL']));
    expect(Object.keys(job.env ?? {})).not.toContain('DATABASE_URL');
    expect(job.steps[at(/npm run release -- --env/)]!.env).toEqual({
      CLOUDFLARE_API_TOKEN: '${{ secrets.CLOUDFLARE_API_TOKEN }}',
      CLOUDFLARE_ACCOUNT_ID: '${{ secrets.CLOUDFLARE_ACCOUNT_ID }}',
      SMOKE_EMAIL: '${{ secrets.SMOKE_EMAIL }}',
      SMOKE_PASSWORD: '${{ secrets.SMOKE_PASSWORD }}',
    });
  });
});
