/**
 * The HPA owns the Deployment's replica count and the manifests no longer set it. A Deployment
 * that was once applied with `replicas: 3` keeps that field in kubectl's last-applied record, and
 * a client-side `kubectl apply` of a config without it DELETES the field: the Deployment falls
 * to 1 pod until the HPA scales up again (Kubernetes docs, "Migrating Deployments and
 * StatefulSets to horizontal autoscaling"). The rollout step of k8s-rollout.yml drops the field
 * from the record before it applies; this runs that step's script against a fake kubectl.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWithTools, JQ } from '../support/tools.js';

type Step = { id?: string; run?: string };
const wf = parse(readFileSync('.github/workflows/k8s-rollout.yml', 'utf8')) as { jobs: { rollout: { steps: Step[] } } };
const rolloutStep = wf.jobs.rollout.steps.find((s) => s.id === 'rollout')!;

function runStep(lastApplied: string) {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-replicas-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'calls.log');
    writeFileSync(join(dir, 'last-applied.json'), lastApplied);
    // Each call's argv, one per line, NUL-free: the annotate value is logged as one argument.
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/bash\nprintf '%s\\n' "kubectl $(printf '[%s]' "$@")" >> "${log}"\ncase "$*" in *last-applied-configuration}*) cat "${join(dir, 'last-applied.json')}" ;; esac\nexit 0\n`,
    );
    chmodSync(join(bin, 'kubectl'), 0o755);
    const r = spawnSync('bash', ['-e', '-c', rolloutStep.run!], {
      cwd: dir,
      env: { PATH: `${bin}:${process.env.PATH}`, NS: 'laundry-production', KUSTOMIZATION: 'deploy/k8s/release/production' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, 'utf8').trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeWithTools([JQ], 'k8s-rollout.yml: the replica count handed to the HPA', () => {
  it('drops replicas from the last-applied record before the apply, keeping everything else', () => {
    const record = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'laundry-api', namespace: 'laundry-production' }, spec: { replicas: 3, selector: { matchLabels: { app: 'laundry-api' } } } };
    const calls = runStep(JSON.stringify(record));
    const annotate = calls.findIndex((c) => c.includes('[annotate]'));
    const apply = calls.findIndex((c) => c.includes('[apply]'));
    expect(annotate).toBeGreaterThan(0);
    expect(apply).toBeGreaterThan(annotate);
    const value = /\[kubectl\.kubernetes\.io\/last-applied-configuration=(.*)\]$/.exec(calls[annotate]!)![1]!;
    const { replicas, ...spec } = record.spec;
    expect(replicas).toBe(3);
    expect(JSON.parse(value)).toEqual({ ...record, spec });
    expect(calls[annotate]).toContain('[-n][laundry-production][annotate][deployment][laundry-api][--overwrite]');
  });

  it('leaves the record alone once it has no replicas, and on a first deploy (no Deployment yet)', () => {
    for (const last of [JSON.stringify({ kind: 'Deployment', spec: { selector: {} } }), '']) {
      const calls = runStep(last);
      expect(calls.some((c) => c.includes('[annotate]'))).toBe(false);
      expect(calls.some((c) => c.includes('[apply]'))).toBe(true);
    }
  });
});
