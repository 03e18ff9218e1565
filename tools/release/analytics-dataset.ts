/**
 * The environment's Analytics Engine dataset: the `METRICS` binding of
 * `[[env.<env>.analytics_engine_datasets]]` in wrangler.toml, as wrangler itself resolves it.
 * That is the table the release gate queries (`observability.ts`).
 */
import type { EnvName } from './types.js';

export async function metricsDataset(env: EnvName): Promise<string | undefined> {
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: 'wrangler.toml', env }, { hideWarnings: true });
  return (config.analytics_engine_datasets as { binding: string; dataset?: string }[]).find((d) => d.binding === 'METRICS')?.dataset;
}
