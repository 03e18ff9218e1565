/**
 * The release tool's test world, shared by test/unit/release.test.ts and
 * test/node/release-gate.test.ts: a recorded fake wrangler, a fake edge that answers per
 * version (the Cloudflare-Workers-Version-Overrides header picks which) with the headers every
 * Worker answer carries, and a clock the edge advances, so nothing sleeps in real time.
 */
import { expect } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../tools/release/gate.js';
import { OVERRIDE_HEADER } from '../../tools/release/probes.js';
import type { CommandResult, ReleaseOptions } from '../../tools/release/types.js';

export const OLD = '10000000-0000-4000-8000-000000000001';
export const NEW = '51e4886e-2db7-4900-8d38-fbfecfeab993';
export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const SHA12 = SHA.slice(0, 12);
export const WORKER = 'laundry-api-production';
export const BASE = 'https://api.laundry.example.com';

/**
 * `wrangler versions upload` stdout, as wrangler 4.x prints it: the snapshot in
 * cloudflare/workers-sdk packages/wrangler/src/__tests__/versions/versions.upload.test.ts
 * ("should print bindings & startup time on versions upload"), matching
 * `logger.log("Worker Version ID:", versionId)` in node_modules/wrangler/wrangler-dist/cli.js.
 */
export const UPLOAD_STDOUT = `
 ⛅️ wrangler 4.86.0
──────────────────
Total Upload: 2356.98 KiB / gzip: 406.98 KiB
Worker Startup Time: 500 ms
Your Worker has access to the following bindings:
Binding                                   Resource
env.CF_VERSION_METADATA                   Worker Version Metadata
env.APP_ENV ("production")                Environment Variable

Uploaded ${WORKER} (3.21 sec)
Worker Version ID: ${NEW}
Version Preview URL: https://51e4886e-${WORKER}.example.workers.dev`;

/**
 * `wrangler deployments status --env <env> --json`: the API's deployment object, logged raw (shape from
 * the snapshot in packages/wrangler/src/__tests__/versions/deployments/deployments.status.test.ts).
 */
export function statusJson(versions: [string, number][]) {
  return JSON.stringify(
    {
      id: 'Galaxy-Class-test-name',
      source: 'api',
      strategy: 'percentage',
      author_email: 'ops@laundry.example.com',
      created_on: '2026-11-20T00:00:00.000000Z',
      annotations: { 'workers/triggered_by': 'deployment' },
      versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
    },
    null,
    2,
  );
}

/** The world the fakes share: what is deployed, and a clock the fake edge advances. */
export function world(
  opts: {
    fail?: (args: readonly string[]) => CommandResult | undefined;
    respond?: (version: string, path: string, w: World, init?: RequestInit) => Answer | undefined;
    initial?: [string, number][];
    uploadStdout?: string;
    /** Real users while the release holds: called for every clock.sleep with the split and the wall-clock span. */
    onSleep?: (w: World, fromWallMs: number, toWallMs: number) => void;
    /** Throw instead of answering (a network error): return a message to fail this request. */
    network?: (version: string, path: string, w: World) => string | undefined;
  } = {},
) {
  const w = {
    t: 0,
    slept: 0,
    split: (opts.initial ?? [[OLD, 100]]) as [string, number][],
    calls: [] as string[][],
    requests: [] as { version: string | undefined; path: string; method: string; auth: boolean }[],
    run: async (args: readonly string[]): Promise<CommandResult> => {
      w.calls.push([...args]);
      const failed = opts.fail?.(args);
      if (failed) return failed;
      const [a, b] = args;
      if (a === 'deployments' && b === 'status') return { code: 0, stdout: statusJson(w.split), stderr: '' };
      if (a === 'versions' && b === 'upload') return { code: 0, stdout: opts.uploadStdout ?? UPLOAD_STDOUT, stderr: '' };
      if (a === 'versions' && b === 'deploy') {
        w.split = args
          .filter((x) => /@\d+$/.test(x))
          .map((x) => {
            const [id, p] = x.split('@');
            return [id!, Number(p)] as [string, number];
          });
        return { code: 0, stdout: `Deployed ${WORKER} ${w.split.map(([id, p]) => `version ${id} at ${p}%`).join(' and ')} (1.02 sec)`, stderr: '' };
      }
      if (a === 'rollback') {
        const target = args[1]?.match(/^[0-9a-f-]{36}$/) ? args[1] : OLD;
        w.split = [[target, 100]];
        return { code: 0, stdout: `Worker Version ${target} has been deployed to 100% of traffic.\n\nCurrent Version ID: ${target}`, stderr: '' };
      }
      if (a === 'triggers') return { code: 0, stdout: 'Deployed laundry-api-production triggers', stderr: '' };
      return { code: 1, stdout: '', stderr: `fake wrangler: unexpected ${args.join(' ')}` };
    },
    fetch: async (url: string, init?: RequestInit): Promise<Response> => {
      const headers = new Headers(init?.headers);
      const override = headers.get(OVERRIDE_HEADER);
      const m = override ? /^([^=]+)="([^"]+)"$/.exec(override) : null;
      if (override) expect(m?.[1]).toBe(WORKER);
      // Overrides only reach versions in the current deployment (PLATFORM.md); else the split decides.
      const inDeployment = m && w.split.some(([id]) => id === m[2]);
      const version = inDeployment ? m[2]! : w.split.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
      const { pathname: path, search } = new URL(url);
      w.requests.push({ version: m?.[2], path, method: init?.method ?? 'GET', auth: headers.has('authorization') });
      const blip = opts.network?.(version, path, w);
      if (blip) {
        w.t += 5;
        throw new TypeError(`fetch failed: ${blip}`);
      }
      const answer = opts.respond?.(version, path, w, init) ?? defaultAnswer(path, init, search);
      w.t += answer.ms ?? 40;
      // Cloudflare's own errors (52x) and bare answers carry neither header; the Worker's always do.
      const fromEdge = answer.edge === true;
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
        status: answer.status,
        headers: fromEdge
          ? { 'content-type': 'text/html' }
          : { 'content-type': 'application/json', 'x-app-version': answer.servedBy ?? version, 'x-request-id': `req-${w.requests.length}` },
      });
    },
    clock: {
      now: () => w.t,
      sleep: async (ms: number) => {
        const from = w.wall();
        w.t += ms;
        w.slept += ms;
        opts.onSleep?.(w, from, w.wall());
      },
    },
    /** Wall clock (epoch ms) for observability windows, tied to the fake clock. */
    wall: () => WALL_EPOCH + w.t,
    percentOf: (id: string) => w.split.find(([v]) => v === id)?.[1] ?? 0,
  };
  return w;
}
export type World = ReturnType<typeof world>;
/** What the fake edge answers; `servedBy` fakes an override that has not reached the edge yet. */
/** What the fake edge answers; `servedBy` fakes an override that has not reached the edge yet; `edge` is an answer from Cloudflare, not the Worker. */
export type Answer = { status: number; body?: unknown; ms?: number; servedBy?: string; edge?: boolean };

export const WALL_EPOCH = Date.parse('2026-11-30T06:00:00Z');
export const SERVICE_ID = '7eceaf28-2b38-41fe-ba85-6d05eafd41a1';
export const ADDRESS_ID = 'a0000000-0000-4000-8000-00000000000a';
export const ORDER_ID = 'o0000000-0000-4000-8000-00000000000b'.replace('o', '0');
const HOUR = 3_600_000;
const slotsOf = (kind: 'pickup' | 'delivery') =>
  [1, 2, 3].map((d) => {
    const startsAt = Date.parse('2026-12-01T08:00:00Z') + d * 24 * HOUR + (kind === 'delivery' ? 8 * HOUR : 0);
    return {
      id: `${kind === 'pickup' ? 'b' : 'c'}000000${d}-0000-4000-8000-000000000000`,
      kind,
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + 2 * HOUR).toISOString(),
      capacity: 10,
      remaining: 9,
      cutoffAt: new Date(startsAt - 12 * HOUR).toISOString(),
    };
  });

export function defaultAnswer(path: string, init?: RequestInit, search = ''): Answer {
  const authed = new Headers(init?.headers).get('authorization') === 'Bearer jwt';
  const method = init?.method ?? 'GET';
  const unauthorized = { status: 401, body: { code: 'unauthorized' } };
  switch (path) {
    case '/healthz':
      return { status: 200, body: { status: 'ok' } };
    case '/readyz':
      return { status: 200, body: { status: 'ready', checks: { database: { status: 'ok', durationMs: 3 } } } };
    case '/v1/services':
      return { status: 200, body: { data: [{ id: SERVICE_ID, slug: 'wash-and-fold', pricingModel: 'per_kg', turnaroundHours: 24 }] } };
    case '/v1/auth/login': {
      const { email } = JSON.parse(String(init?.body)) as { email: string };
      return { status: 200, body: { accessToken: 'jwt', refreshToken: 'r'.repeat(43), user: { email } } };
    }
    case '/v1/auth/logout':
      return { status: 204 };
    case '/v1/me':
      return authed ? { status: 200, body: { email: 'smoke@laundry.example.com' } } : unauthorized;
    case '/v1/addresses':
      return authed ? { status: 200, body: { data: [{ id: ADDRESS_ID, postcode: 'ZZ9 9ZZ', served: true, zoneId: 'z' }] } } : unauthorized;
    case '/v1/slots': {
      if (!authed) return unauthorized;
      return { status: 200, body: { zone: { id: 'z', name: 'Synthetic' }, data: slotsOf(new URLSearchParams(search).get('kind') === 'delivery' ? 'delivery' : 'pickup') } };
    }
    case '/v1/orders': {
      if (!authed || method !== 'POST') return unauthorized;
      const key = new Headers(init?.headers).get('idempotency-key');
      const order = JSON.parse(String(init?.body)) as { paymentMethod: string; pickupSlotId: string; deliverySlotId: string };
      if (!key) return { status: 400, body: { code: 'idempotency_key_required' } };
      return { status: 201, body: { id: ORDER_ID, status: 'confirmed', paymentMethod: order.paymentMethod } };
    }
    case `/v1/orders/${ORDER_ID}/cancel`:
      return authed && method === 'POST' ? { status: 200, body: { id: ORDER_ID, status: 'cancelled' } } : unauthorized;
    default:
      return { status: 404 };
  }
}

export function options(overrides: Partial<ReleaseOptions> = {}): ReleaseOptions {
  return {
    target: { env: 'production', workerName: WORKER, baseUrl: BASE },
    steps: [10, 50, 100],
    holdSeconds: 60,
    dryRun: false,
    git: { sha: SHA, subject: 'Add express turnaround' },
    smoke: { email: 'smoke@laundry.example.com', password: 'smoke password' },
    probeRounds: 5,
    thresholds: DEFAULT_THRESHOLDS,
    overrideTimeoutSeconds: 30,
    deployTriggers: true,
    ...overrides,
  };
}

export const deploy = (split: string[], message: string) => ['versions', 'deploy', ...split, '-y', '--message', message, '--env', 'production'];
export const STATUS = ['deployments', 'status', '--env', 'production', '--json'];
export const UPLOAD = ['versions', 'upload', '--env', 'production', '--tag', SHA, '--message', `${SHA} Add express turnaround`];
export const restoreCall = (calls: string[][]) => calls.find((c) => c[1] === 'deploy' && c[2] === `${OLD}@100` && c.length === 8);
