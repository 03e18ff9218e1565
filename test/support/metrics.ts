/** Reads Prometheus text exposition in tests. */
export type Samples = Map<string, number>;

function key(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  return `${name}{${sorted}}`;
}

export function parseSamples(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.set(key(m[1]!, labels), Number(m[3]));
  }
  return out;
}

/** One series' value (0 when absent: a counter that never moved has no series yet). */
export function sampleOf(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(key(name, labels)) ?? 0;
}

/** How much each series moved between two scrapes. */
export function delta(before: Samples, after: Samples, name: string, labels: Record<string, string> = {}): number {
  return sampleOf(after, name, labels) - sampleOf(before, name, labels);
}
