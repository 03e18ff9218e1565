/**
 * A stand-in for the few Cloudflare API endpoints wrangler 4.x calls during a release
 * (versions upload and deploy, deployments status, rollback, triggers deploy), so the real
 * wrangler binary can be driven end to end without an account:
 *
 *   CLOUDFLARE_API_BASE_URL=http://127.0.0.1:<port>/client/v4 CLOUDFLARE_API_TOKEN=x \
 *   CLOUDFLARE_ACCOUNT_ID=fake npm run release -- --env staging --base-url http://127.0.0.1:<edge>
 *
 * It keeps deployments in memory, newest first, and records every request. It is a test
 * double: shapes follow what wrangler reads, nothing more. Static assets (wrangler.toml
 * `[assets]`) go through the direct-upload flow as Cloudflare documents it
 * (https://developers.cloudflare.com/workers/static-assets/direct-upload/): a manifest opens an
 * upload session (`buckets` of hashes still missing, an upload JWT), files are posted as
 * multipart with `base64=true` under that JWT, the last one answers 201 with a completion JWT,
 * and a version that names an assets JWT must name a completion token this API issued.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isEntryPoint } from '../shared/entry.js';

export interface FakeDeployment {
  id: string;
  source: string;
  strategy: 'percentage';
  author_email: string;
  created_on: string;
  annotations: Record<string, string>;
  versions: { version_id: string; percentage: number }[];
}

export interface FakeVersion {
  id: string;
  number: number;
  metadata: { created_on: string; source: string; author_email: string };
  annotations: Record<string, string>;
  resources: { script: { handlers: string[] }; bindings: unknown[] };
}

export interface FakeCloudflare {
  url: string;
  /** The API base to put in CLOUDFLARE_API_BASE_URL. */
  apiBase: string;
  deployments: FakeDeployment[];
  versions: Map<string, FakeVersion>;
  requests: { method: string; path: string; body: string }[];
  /** Makes the next requests matching `method path-regex` fail with an API error. */
  failNext(method: string, path: RegExp, message?: string): void;
  current(): FakeDeployment['versions'];
  close(): Promise<void>;
}

export async function startFakeCloudflare(opts: { initialVersionId?: string; port?: number } = {}): Promise<FakeCloudflare> {
  let clock = Date.parse('2026-11-01T00:00:00Z');
  const now = () => new Date((clock += 1000)).toISOString();
  const versions = new Map<string, FakeVersion>();
  const addVersion = (id: string, annotations: Record<string, string>) => {
    const v: FakeVersion = {
      id,
      number: versions.size + 1,
      metadata: { created_on: now(), source: 'wrangler', author_email: 'release@laundry.example.com' },
      annotations,
      resources: { script: { handlers: ['fetch', 'scheduled'] }, bindings: [] },
    };
    versions.set(id, v);
    return v;
  };
  const initial = opts.initialVersionId ?? randomUUID();
  addVersion(initial, { 'workers/tag': 'initial' });
  const deployments: FakeDeployment[] = [
    {
      id: randomUUID(),
      source: 'wrangler',
      strategy: 'percentage',
      author_email: 'release@laundry.example.com',
      created_on: now(),
      annotations: { 'workers/triggered_by': 'deployment' },
      versions: [{ version_id: initial, percentage: 100 }],
    },
  ];
  const requests: FakeCloudflare['requests'] = [];
  /** Asset hashes the account already holds, upload sessions (JWT → hashes still missing), completion JWTs issued. */
  const storedAssets = new Set<string>();
  const uploadSessions = new Map<string, Set<string>>();
  const completionTokens = new Set<string>();
  const failures: { method: string; path: RegExp; message: string }[] = [];

  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/client\/v4/, '');
    const method = req.method ?? 'GET';
    requests.push({ method, path: `${path}${url.search}`, body });
    res.setHeader('content-type', 'application/json');
    const send = (status: number, result: unknown, errors: { code: number; message: string }[] = []) => {
      res.statusCode = status;
      res.end(JSON.stringify({ success: errors.length === 0, errors, messages: [], result }));
    };
    const ok = (result: unknown) => send(200, result);

    const failure = failures.findIndex((f) => f.method === method && f.path.test(path));
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      // 4xx: wrangler retries 5xx answers, and the point is to see it give up.
      return send(400, null, [{ code: 10021, message: f!.message }]);
    }

    let m: RegExpExecArray | null;
    if (method === 'POST' && /^\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/assets-upload-session$/.test(path)) {
      const manifest = (JSON.parse(body || '{}') as { manifest?: Record<string, { hash?: unknown; size?: unknown }> }).manifest;
      if (!manifest || typeof manifest !== 'object') return send(400, null, [{ code: 10021, message: 'manifest is required' }]);
      const missing = new Set<string>();
      for (const [file, entry] of Object.entries(manifest)) {
        if (!file.startsWith('/') || typeof entry.hash !== 'string' || !/^[0-9a-f]{32}$/.test(entry.hash) || typeof entry.size !== 'number') {
          return send(400, null, [{ code: 10021, message: `invalid manifest entry ${file}` }]);
        }
        if (!storedAssets.has(entry.hash)) missing.add(entry.hash);
      }
      if (missing.size === 0) {
        const completion = randomUUID();
        completionTokens.add(completion);
        return ok({ jwt: completion, buckets: [] });
      }
      const uploadToken = randomUUID();
      uploadSessions.set(uploadToken, missing);
      return ok({ jwt: uploadToken, buckets: [[...missing]] });
    }
    if (method === 'POST' && /^\/accounts\/[^/]+\/workers\/assets\/upload$/.test(path)) {
      if (url.searchParams.get('base64') !== 'true') return send(400, null, [{ code: 10021, message: 'base64 must be true' }]);
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const session = uploadSessions.get(token);
      if (!session) return send(401, null, [{ code: 10001, message: 'invalid or expired upload token' }]);
      if (!/^multipart\/form-data/.test(req.headers['content-type'] ?? '')) return send(400, null, [{ code: 10021, message: 'multipart/form-data expected' }]);
      const names = [...body.matchAll(/name="([^"]+)"/g)].map((n) => n[1]!);
      const stranger = names.find((n) => !session.has(n) && !storedAssets.has(n));
      if (names.length === 0 || stranger) return send(400, null, [{ code: 10021, message: `file ${stranger ?? '(none)'} is not in the manifest` }]);
      for (const n of names) {
        session.delete(n);
        storedAssets.add(n);
      }
      if (session.size > 0) return send(202, {});
      uploadSessions.delete(token);
      const completion = randomUUID();
      completionTokens.add(completion);
      return send(201, { jwt: completion });
    }
    if (/^\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/deployments$/.test(path)) {
      if (method === 'GET') return ok({ deployments });
      const input = JSON.parse(body) as { versions: FakeDeployment['versions']; annotations?: Record<string, string> };
      const missing = input.versions.find((v) => !versions.has(v.version_id));
      if (missing) return send(400, null, [{ code: 10205, message: `version ${missing.version_id} not found` }]);
      deployments.unshift({
        id: randomUUID(),
        source: 'api',
        strategy: 'percentage',
        author_email: 'release@laundry.example.com',
        created_on: now(),
        annotations: input.annotations ?? {},
        versions: input.versions,
      });
      return ok({ id: deployments[0]!.id });
    }
    if (method === 'POST' && /^\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/versions$/.test(path)) {
      // multipart: pull the annotations wrangler sends in the metadata part
      const metadata = /"annotations":(\{[^}]*\})/.exec(body)?.[1];
      const assetsJwt = /"assets":\{"jwt":"([^"]+)"/.exec(body)?.[1];
      if (assetsJwt !== undefined && !completionTokens.has(assetsJwt)) {
        return send(400, null, [{ code: 10021, message: 'assets: not a completion token from a finished upload session' }]);
      }
      const v = addVersion(randomUUID(), metadata ? (JSON.parse(metadata) as Record<string, string>) : {});
      return ok({ id: v.id, number: v.number, startup_time_ms: 12, metadata: { has_preview: false } });
    }
    if (method === 'GET' && (m = /^\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/versions\/([^/]+)$/.exec(path))) {
      const v = versions.get(m[1]!);
      return v ? ok(v) : send(404, null, [{ code: 10007, message: 'version not found' }]);
    }
    if (method === 'GET' && /^\/accounts\/[^/]+\/workers\/scripts\/[^/]+\/versions$/.test(path)) {
      return ok({ items: [...versions.values()].reverse() });
    }
    if (/^\/accounts\/[^/]+\/workers\/services\/[^/]+$/.test(path)) {
      return ok({ default_environment: { script: { last_deployed_from: 'wrangler', tags: null } } });
    }
    if (/\/script-settings$|\/settings$/.test(path)) return ok(body ? JSON.parse(body) : {});
    if (/\/subdomain$/.test(path)) return ok({ enabled: false, previews_enabled: false });
    if (/\/schedules$/.test(path)) return ok({ schedules: body ? JSON.parse(body) : [] });
    if (/\/domains\/(records|changeset)$/.test(path)) return ok(method === 'POST' ? { added: [], removed: [], updated: [] } : {});
    if (path === '/zones') {
      // wrangler walks up a custom domain's labels to find its zone: say the apex is ours.
      const name = url.searchParams.get('name') ?? '';
      return ok(name.split('.').length === 3 ? [{ id: 'fake-zone', name }] : []);
    }
    if (/^\/zones\/[^/]+\/workers\/routes$/.test(path)) return ok([]);
    if (path === '/user/tokens/verify') return ok({ status: 'active' });
    return send(404, null, [{ code: 10007, message: `fake Cloudflare API: no handler for ${method} ${path}` }]);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiBase: `${url}/client/v4`,
    deployments,
    versions,
    requests,
    failNext: (method, path, message = 'fake failure') => failures.push({ method, path, message }),
    current: () => deployments[0]!.versions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (isEntryPoint(import.meta.url)) {
  const fake = await startFakeCloudflare({ port: Number(process.env.PORT ?? 0) });
  console.log(`fake Cloudflare API: CLOUDFLARE_API_BASE_URL=${fake.apiBase} (initial version ${fake.current()[0]!.version_id})`);
}
