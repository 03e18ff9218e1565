/**
 * The deploy account's Role (deploy/k8s/rbac/) against what the workflows do with it: every
 * kubectl command in .github/workflows/*.yml is turned into the API calls kubectl makes for it
 * (verb, API group, resource), the kinds `kubectl apply -k` sends come from the kustomizations,
 * and the Role must grant exactly that set: nothing missing (a rollout that cannot read pod logs
 * or ReplicaSets), nothing extra, no wildcard. A command this file does not know fails the test
 * until its API calls are written down here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { hasOptionalTool } from '../support/tools.js';

type Obj = Record<string, any>;
const yamlFile = (path: string): Obj => parseYaml(readFileSync(path, 'utf8')) as Obj;

/** `group/resource` (core group empty) for the kinds and the kubectl resource names we use. */
const KINDS: Record<string, string> = {
  ConfigMap: '/configmaps',
  Secret: '/secrets',
  Service: '/services',
  ServiceAccount: '/serviceaccounts',
  Pod: '/pods',
  Deployment: 'apps/deployments',
  ReplicaSet: 'apps/replicasets',
  HorizontalPodAutoscaler: 'autoscaling/horizontalpodautoscalers',
  PodDisruptionBudget: 'policy/poddisruptionbudgets',
  Job: 'batch/jobs',
  CronJob: 'batch/cronjobs',
  NetworkPolicy: 'networking.k8s.io/networkpolicies',
  Ingress: 'networking.k8s.io/ingresses',
};
const ALIASES: Record<string, string> = {
  configmap: 'ConfigMap', configmaps: 'ConfigMap', cm: 'ConfigMap',
  service: 'Service', services: 'Service', svc: 'Service',
  pod: 'Pod', pods: 'Pod', po: 'Pod',
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  replicaset: 'ReplicaSet', replicasets: 'ReplicaSet', rs: 'ReplicaSet',
  hpa: 'HorizontalPodAutoscaler', horizontalpodautoscaler: 'HorizontalPodAutoscaler',
  pdb: 'PodDisruptionBudget', poddisruptionbudget: 'PodDisruptionBudget',
  job: 'Job', jobs: 'Job',
  cronjob: 'CronJob', cronjobs: 'CronJob', cj: 'CronJob',
}; // prettier-ignore

function resourceOf(kindOrAlias: string): string {
  const kind = KINDS[kindOrAlias] ? kindOrAlias : ALIASES[kindOrAlias.toLowerCase()];
  if (!kind || !KINDS[kind]) throw new Error(`unknown kind or resource "${kindOrAlias}": add it to KINDS/ALIASES in ${'test/node/k8s-rbac.test.ts'}`);
  return KINDS[kind];
}

/** Every `kubectl …` command in a shell script, as argv (quotes removed), cut at |, ;, &&, ||, `)` and newlines. */
function kubectlCommands(script: string): string[][] {
  const text = script.replace(/\\\n/g, ' ');
  const out: string[][] = [];
  for (const m of text.matchAll(/(?:^|[\s;|&(])kubectl\s/g)) {
    const argv: string[] = [];
    let token = '';
    let has = false;
    let quote: string | null = null;
    let i = m.index + m[0].length;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = null;
        else token += c;
        continue;
      }
      if (c === "'" || c === '"') {
        quote = c;
        has = true;
        continue;
      }
      if (c === '\n' || c === ';' || c === '|' || c === '&' || c === ')' || c === '#') break;
      if (/\s/.test(c)) {
        if (has || token) argv.push(token);
        token = '';
        has = false;
        continue;
      }
      token += c;
    }
    if (has || token) argv.push(token);
    out.push(argv);
  }
  return out;
}

const VALUED = new Set(['-n', '--namespace', '-o', '--output', '-l', '--selector', '--timeout', '--tail', '-c', '--container', '--to-revision', '-f', '--filename', '-k', '--kustomize', '--for', '--field-selector', '--since', '--context', '--version', '--from']);

interface Parsed {
  positionals: string[];
  flags: Map<string, string | true>;
}

function parse(argv: string[]): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) positionals.push(a);
    else if (a.includes('=')) flags.set(a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
    else if (VALUED.has(a)) flags.set(a, argv[++i] ?? '');
    else flags.set(a, true);
  }
  return { positionals, flags };
}

/** `TYPE/NAME` or `TYPE NAME…` at positionals[at…]: the resource and whether names were given. */
function target(p: Parsed, at: number): { resource: string; kind: string; named: boolean } {
  const first = p.positionals[at];
  if (!first) throw new Error(`no resource in ${p.positionals.join(' ')}`);
  if (first.includes('/')) {
    const type = first.slice(0, first.indexOf('/'));
    return { resource: resourceOf(type), kind: ALIASES[type.toLowerCase()] ?? type, named: true };
  }
  return { resource: resourceOf(first), kind: ALIASES[first.toLowerCase()] ?? first, named: p.positionals.length > at + 1 };
}

/**
 * The API calls kubectl 1.32 makes for one command, as `verb group/resource`. From kubectl's
 * source: apply (client-side) GETs each object, then creates or patches it; `delete` waits
 * (default --wait=true) with a list + watch on the name; `logs TYPE/NAME` gets the owner, lists
 * (or watches for) its pods by selector, then reads pods/log; `rollout status` lists and
 * watches; `rollout undo` gets the Deployment, lists its ReplicaSets for the previous revision
 * and patches the template back; `set image` gets and patches.
 */
function apiCalls(argv: string[], appliedKinds: string[]): string[] {
  const p = parse(argv);
  const [cmd, sub] = p.positionals;
  const calls = (verbs: string[], resource: string) => verbs.map((v) => `${v} ${resource}`);
  switch (cmd) {
    case 'version':
    case 'kustomize':
      return []; // /version is a non-resource URL every authenticated user may read; kustomize is local
    case 'apply':
      if (!p.flags.has('-k') && !p.flags.has('-f')) throw new Error(`apply without -k/-f: ${argv.join(' ')}`);
      return appliedKinds.flatMap((k) => calls(['get', 'create', 'patch'], resourceOf(k)));
    case 'delete': {
      const t = target(p, 1);
      return [...calls(['delete', 'get'], t.resource), ...(p.flags.get('--wait') === 'false' ? [] : calls(['list', 'watch'], t.resource))];
    }
    case 'get': {
      const t = target(p, 1);
      const watch = p.flags.has('-w') || p.flags.has('--watch');
      return [...calls([t.named ? 'get' : 'list'], t.resource), ...(watch ? calls(['list', 'watch'], t.resource) : [])];
    }
    case 'logs': {
      const log = ['get /pods/log'];
      if (p.flags.has('-l') || p.flags.has('--selector')) return ['list /pods', ...log];
      const t = target(p, 1);
      if (t.kind === 'Pod') return ['get /pods', ...log];
      return [`get ${t.resource}`, 'list /pods', 'watch /pods', ...log];
    }
    case 'rollout': {
      const t = target(p, 2);
      if (sub === 'status') return calls(['get', 'list', 'watch'], t.resource);
      if (sub === 'undo') return [...calls(['get', 'patch'], t.resource), 'list apps/replicasets'];
      if (sub === 'history') return [`get ${t.resource}`, 'list apps/replicasets'];
      if (sub === 'restart') return calls(['get', 'patch'], t.resource);
      break;
    }
    case 'annotate':
      return calls(['get', 'patch'], target(p, 1).resource);
    case 'set':
      if (sub === 'image') return calls(['get', 'patch'], target(p, 2).resource);
      break;
    case 'wait':
      return calls(['get', 'list', 'watch'], target(p, 1).resource);
  }
  throw new Error(`kubectl ${argv.join(' ')}: its API calls are not known to test/node/k8s-rbac.test.ts; add them`);
}

/** The kinds an overlay renders (from its kustomization files; kubectl may be missing). */
function kindsOf(dir: string): string[] {
  const k = yamlFile(`${dir}/kustomization.yaml`);
  const kinds: string[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const path = `${dir}/${r}`;
    if (!/\.ya?ml$/.test(r)) kinds.push(...kindsOf(path));
    else for (const d of parseAllDocuments(readFileSync(path, 'utf8'))) kinds.push((d.toJS() as Obj).kind as string);
  }
  if (k.configMapGenerator) kinds.push('ConfigMap');
  if (k.secretGenerator) kinds.push('Secret');
  return [...new Set(kinds)].sort();
}

const WORKFLOWS = readdirSync('.github/workflows')
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => ({ file: f, wf: yamlFile(`.github/workflows/${f}`) }));
const scripts = WORKFLOWS.flatMap(({ file, wf }) =>
  Object.values((wf.jobs ?? {}) as Obj).flatMap((job: Obj) => ((job.steps ?? []) as Obj[]).filter((s) => typeof s.run === 'string').map((s) => ({ file, step: String(s.name ?? ''), run: s.run as string }))),
);
const commands = scripts.flatMap((s) => kubectlCommands(s.run).map((argv) => ({ ...s, argv })));
const appliedKinds = [...new Set(['staging', 'production'].flatMap((env) => kindsOf(`deploy/k8s/overlays/${env}`)))].sort();

const role = yamlFile('deploy/k8s/rbac/base/role.yaml');
const granted = new Set(
  (role.rules as Obj[]).flatMap((r) => (r.apiGroups as string[]).flatMap((g) => (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${v} ${g}/${res}`)))),
);

describe('the deploy account (deploy/k8s/rbac) allows exactly what the workflows do', () => {
  it('reads the kubectl commands of the rollout workflow, including the rollout and its undo', () => {
    const names = commands.map((c) => parse(c.argv).positionals.slice(0, 2).join(' '));
    expect(names).toEqual(expect.arrayContaining(['apply', 'delete job', 'get job', 'logs job/laundry-api-migrate', 'rollout status', 'rollout undo', 'set image']));
    // The parser keeps a quoted jsonpath with nested quotes as one argument.
    const failed = commands.find((c) => c.argv.some((a) => a.includes('@.type=="Failed"')));
    expect(failed?.argv).toEqual(['-n', '$NS', 'get', 'job', 'laundry-api-migrate', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].status}']);
    expect(appliedKinds).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Service']);
  });

  it('the Role grants every API call those commands make, nothing more, and no wildcard', () => {
    const needed = new Map<string, string>();
    for (const c of commands) for (const call of apiCalls(c.argv, appliedKinds)) if (!needed.has(call)) needed.set(call, `${c.file} "${c.step}": kubectl ${c.argv.join(' ')}`);
    const missing = [...needed.keys()].filter((k) => !granted.has(k)).map((k) => `${k}  (for ${needed.get(k)})`);
    expect(missing, 'calls the Role does not allow').toEqual([]);
    expect([...granted].filter((k) => !needed.has(k)), 'grants no command needs').toEqual([]);
    for (const r of role.rules as Obj[]) {
      for (const field of ['apiGroups', 'resources', 'verbs']) expect(r[field] as string[], field).not.toContain('*');
      expect(r.nonResourceURLs).toBeUndefined();
      for (const v of r.verbs as string[]) expect(['escalate', 'bind', 'impersonate']).not.toContain(v);
    }
    // A Role, not a ClusterRole: nothing outside its namespace, and no Secrets (the app's
    // Secret is made by an admin) and no RBAC objects.
    expect(role.kind).toBe('Role');
    expect([...granted].filter((k) => /\/(secrets|roles|rolebindings|serviceaccounts)$/.test(k))).toEqual([]);
  });

  it('every kubectl command that touches resources names its namespace (or applies a namespaced overlay)', () => {
    for (const c of commands) {
      const p = parse(c.argv);
      const cmd = p.positionals[0];
      if (cmd === 'version' || cmd === 'kustomize') continue;
      if (cmd === 'apply') expect(p.flags.get('-k'), c.argv.join(' ')).toBe('$KUSTOMIZATION');
      else expect(p.flags.get('-n') ?? p.flags.get('--namespace'), c.argv.join(' ')).toBe('$NS');
    }
    const rollout = WORKFLOWS.find((w) => w.file === 'k8s-rollout.yml')!.wf;
    expect(rollout.jobs.rollout.env.NS).toBe('laundry-${{ inputs.environment }}');
  });

  it('one ServiceAccount, Role and RoleBinding per namespace, bound to each other, with a token Secret for the kubeconfig', () => {
    const base = yamlFile('deploy/k8s/rbac/base/kustomization.yaml');
    const docs = (base.resources as string[]).map((r) => yamlFile(`deploy/k8s/rbac/base/${r}`));
    const byKind = (k: string) => docs.find((d) => d.kind === k)!;
    const sa = byKind('ServiceAccount');
    const binding = byKind('RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: sa.metadata.name })]);
    const token = byKind('Secret');
    expect(token.type).toBe('kubernetes.io/service-account-token');
    expect(token.metadata.annotations['kubernetes.io/service-account.name']).toBe(sa.metadata.name);
    for (const env of ['staging', 'production']) {
      const k = yamlFile(`deploy/k8s/rbac/${env}/kustomization.yaml`);
      expect(k.namespace).toBe(`laundry-${env}`);
      expect(k.namespace).toBe(yamlFile(`deploy/k8s/overlays/${env}/kustomization.yaml`).namespace);
      expect(k.resources).toEqual(['../base']);
    }
    expect(readFileSync('docs/runbook.md', 'utf8')).toMatch(/kubectl apply -k deploy\/k8s\/rbac\/production/);
  });

  const kubectl = hasOptionalTool('kubectl', ['version', '--client']);
  it.runIf(kubectl)('kubectl kustomize: the binding’s subject is the ServiceAccount in the overlay’s namespace', () => {
    for (const env of ['staging', 'production']) {
      const docs = parseAllDocuments(execFileSync('kubectl', ['kustomize', `deploy/k8s/rbac/${env}`], { encoding: 'utf8' })).map((d) => d.toJS() as Obj);
      for (const d of docs) expect(d.metadata.namespace).toBe(`laundry-${env}`);
      const binding = docs.find((d) => d.kind === 'RoleBinding')!;
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'laundry-deployer', namespace: `laundry-${env}` }]);
    }
  });
});

describe('the private GHCR image', () => {
  it('every pod spec in the base pulls with the ghcr-pull Secret', () => {
    const base = yamlFile('deploy/k8s/base/kustomization.yaml');
    const workloads = (base.resources as string[]).map((r) => yamlFile(`deploy/k8s/base/${r}`)).filter((d) => ['Deployment', 'Job', 'CronJob', 'StatefulSet', 'DaemonSet', 'Pod'].includes(d.kind));
    expect(workloads.map((w) => w.kind).sort()).toEqual(['CronJob', 'Deployment', 'Deployment', 'Job']);
    for (const w of workloads) {
      const pod = (w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template.spec : w.kind === 'Pod' ? w.spec : w.spec.template.spec) as Obj;
      expect(pod.imagePullSecrets, `${w.kind} ${w.metadata.name}`).toEqual([{ name: 'ghcr-pull' }]);
    }
    // The runbook says how to make it: a docker-registry Secret from a PAT with read:packages.
    const runbook = readFileSync('docs/runbook.md', 'utf8');
    expect(runbook).toMatch(/kubectl -n laundry-production create secret docker-registry ghcr-pull/);
    expect(runbook).toMatch(/read:packages/);
  });
});
