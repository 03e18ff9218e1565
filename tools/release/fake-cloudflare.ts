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
 *
 * The Workers Analytics Engine SQL API (https://developers.cloudflare.com/analytics/analytics-engine/sql-api/)
 * is here too, for the release gate: `POST /accounts/{id}/analytics_engine/sql` with
 * `Authorization: Bearer <token>` and the SQL as the body, answering ClickHouse's `FORMAT JSON`
 * shape (`meta`, `data`, `rows`; UInt64 sums as decimal strings). Like the real API it refuses a
 * missing or wrong token, other methods, unknown tables (datasets) and columns; a bad query is
 * a 422 with the message as text. Tests store points with `writeDataPoint` (what the Worker's
 * `METRICS` binding would have written) and the stand-in evaluates the gate's queries over them;
 * SQL it does not implement is refused, never approximated.
 *
 * Queues (https://developers.cloudflare.com/api/resources/queues/), for wrangler.toml's
 * `[[queues.producers]]` and `[[queues.consumers]]`: `versions upload` lists the queues the
 * configuration names (`GET /accounts/{id}/queues?name=…&name=…`) and stops if one is missing;
 * `triggers deploy` looks each consumed queue up by name and creates its Worker consumer
 * (`POST /accounts/{id}/queues/{queue_id}/consumers`) or updates it (`PUT …/consumers/{consumer_id}`).
 * Queues are never created implicitly, as on Cloudflare: the account holds only those passed as
 * `queues` (or created with `POST /accounts/{id}/queues`, what `wrangler queues create` sends).
 * Like the real API it refuses an unknown queue id, a dead-letter queue that does not exist, a
 * second consumer on a queue, and a version whose queue binding names a queue that does not exist.
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

/** A queue as `GET /accounts/{id}/queues` returns it (the fields wrangler reads, and a few more). */
export interface FakeQueue {
  queue_id: string;
  queue_name: string;
  created_on: string;
  modified_on: string;
  producers: { type: 'worker'; script: string }[];
  producers_total_count: number;
  consumers: FakeQueueConsumer[];
  consumers_total_count: number;
  settings: { delivery_delay: number; delivery_paused: boolean; message_retention_period: number };
}

export interface FakeQueueConsumer {
  consumer_id: string;
  queue_name: string;
  type: 'worker';
  script: string;
  dead_letter_queue?: string;
  settings: { batch_size?: number; max_retries?: number; max_wait_time_ms?: number; max_concurrency?: number | null; retry_delay?: number };
  created_on: string;
}

export interface FakeCloudflare {
  url: string;
  /** The API base to put in CLOUDFLARE_API_BASE_URL. */
  apiBase: string;
  deployments: FakeDeployment[];
  versions: Map<string, FakeVersion>;
  requests: { method: string; path: string; body: string }[];
  /** Analytics Engine datasets (tables) and their points. */
  analytics: Map<string, FakeDataPoint[]>;
  /** The account's queues by name. */
  queues: Map<string, FakeQueue>;
  /** Stores a point as the Worker's `writeDataPoint` would (the dataset springs into being on first write). */
  writeDataPoint(dataset: string, point: FakeDataPoint): void;
  /** Makes the next requests matching `method path-regex` fail with an API error. */
  failNext(method: string, path: RegExp, message?: string): void;
  current(): FakeDeployment['versions'];
  close(): Promise<void>;
}

/** Cloudflare's rule for queue names: lowercase letters, digits and dashes, at most 63. */
const QUEUE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export async function startFakeCloudflare(
  opts: { initialVersionId?: string; port?: number; apiToken?: string; /** Queues the account already has (created once per environment). */ queues?: string[] } = {},
): Promise<FakeCloudflare> {
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
  const analytics = new Map<string, FakeDataPoint[]>();
  const queues = new Map<string, FakeQueue>();
  const addQueue = (name: string): FakeQueue => {
    const created = now();
    const q: FakeQueue = {
      queue_id: randomUUID().replaceAll('-', ''),
      queue_name: name,
      created_on: created,
      modified_on: created,
      producers: [],
      producers_total_count: 0,
      consumers: [],
      consumers_total_count: 0,
      settings: { delivery_delay: 0, delivery_paused: false, message_retention_period: 345600 },
    };
    queues.set(name, q);
    return q;
  };
  for (const name of opts.queues ?? []) addQueue(name);
  const queueById = (id: string) => [...queues.values()].find((q) => q.queue_id === id);

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
    if (/^\/accounts\/[^/]+\/queues$/.test(path)) {
      if (method === 'GET') {
        // Any of the names asked for (wrangler repeats `name`), one page of up to 100.
        const names = url.searchParams.getAll('name');
        const found = [...queues.values()].filter((q) => names.length === 0 || names.includes(q.queue_name));
        const page = Number(url.searchParams.get('page') ?? 1);
        const perPage = 100;
        const result = found.slice((page - 1) * perPage, page * perPage);
        res.statusCode = 200;
        return res.end(JSON.stringify({ success: true, errors: [], messages: [], result, result_info: { page, per_page: perPage, count: result.length, total_count: found.length } }));
      }
      if (method === 'POST') {
        const name = (JSON.parse(body || '{}') as { queue_name?: unknown }).queue_name;
        if (typeof name !== 'string' || !QUEUE_NAME.test(name)) return send(400, null, [{ code: 11003, message: `queue_name ${JSON.stringify(name)} is invalid` }]);
        if (queues.has(name)) return send(409, null, [{ code: 11009, message: `A queue named ${name} already exists` }]);
        return ok(addQueue(name));
      }
    }
    if ((m = /^\/accounts\/[^/]+\/queues\/([^/]+)(?:\/consumers(?:\/([^/]+))?)?$/.exec(path))) {
      const queue = queueById(m[1]!);
      if (!queue) return send(404, null, [{ code: 11000, message: `Queue ${m[1]} does not exist` }]);
      const isConsumers = path.includes('/consumers');
      if (!isConsumers && method === 'GET') return ok(queue);
      if (isConsumers && m[2] === undefined && method === 'GET') return ok(queue.consumers);
      if (isConsumers && (method === 'POST' || method === 'PUT')) {
        const input = JSON.parse(body || '{}') as { type?: unknown; script_name?: unknown; dead_letter_queue?: unknown; settings?: FakeQueueConsumer['settings'] };
        if (input.type !== 'worker' || typeof input.script_name !== 'string' || !input.script_name) {
          return send(400, null, [{ code: 11003, message: 'a worker consumer needs type "worker" and script_name' }]);
        }
        if (input.dead_letter_queue !== undefined) {
          if (typeof input.dead_letter_queue !== 'string' || !queues.has(input.dead_letter_queue)) {
            return send(400, null, [{ code: 11000, message: `dead_letter_queue: Queue ${String(input.dead_letter_queue)} does not exist` }]);
          }
          if (input.dead_letter_queue === queue.queue_name) return send(400, null, [{ code: 11003, message: 'a queue cannot be its own dead-letter queue' }]);
        }
        const fields = {
          script: input.script_name,
          ...(input.dead_letter_queue !== undefined ? { dead_letter_queue: input.dead_letter_queue as string } : {}),
          settings: input.settings ?? {},
        };
        if (method === 'POST' && m[2] === undefined) {
          if (queue.consumers.length > 0) return send(400, null, [{ code: 11004, message: `Queue ${queue.queue_name} already has a consumer` }]);
          const consumer: FakeQueueConsumer = { consumer_id: randomUUID().replaceAll('-', ''), queue_name: queue.queue_name, type: 'worker', ...fields, created_on: now() };
          queue.consumers.push(consumer);
          queue.consumers_total_count = queue.consumers.length;
          queue.modified_on = now();
          return ok(consumer);
        }
        if (method === 'PUT' && m[2] !== undefined) {
          const i = queue.consumers.findIndex((c) => c.consumer_id === m![2]);
          if (i < 0) return send(404, null, [{ code: 11000, message: `Consumer ${m[2]} does not exist on queue ${queue.queue_name}` }]);
          queue.consumers[i] = { ...queue.consumers[i]!, ...fields, dead_letter_queue: fields.dead_letter_queue };
          queue.modified_on = now();
          return ok(queue.consumers[i]);
        }
      }
    }
    if (/^\/accounts\/[^/]+\/analytics_engine\/sql$/.test(path)) {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || (opts.apiToken !== undefined && token !== opts.apiToken)) return send(403, null, [{ code: 10000, message: 'Authentication error' }]);
      if (method !== 'POST') return send(405, null, [{ code: 10405, message: `method ${method} not allowed: POST the SQL as the body` }]);
      try {
        const result = runAnalyticsSql(body, analytics);
        res.statusCode = 200;
        return res.end(JSON.stringify(result));
      } catch (err) {
        if (!(err instanceof SqlError)) throw err;
        res.statusCode = 422;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        return res.end(err.message);
      }
    }
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
      // A queue binding must name a queue of the account (bindings are checked on upload).
      for (const q of body.matchAll(/"type":"queue"[^}]*?"queue_name":"([^"]+)"/g)) {
        if (!queues.has(q[1]!)) return send(400, null, [{ code: 10021, message: `binding refers to Queue ${q[1]}, which does not exist` }]);
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
    analytics,
    queues,
    writeDataPoint: (dataset, point) => analytics.set(dataset, [...(analytics.get(dataset) ?? []), { ...point, timestampMs: point.timestampMs ?? Date.now() }]),
    failNext: (method, path, message = 'fake failure') => failures.push({ method, path, message }),
    current: () => deployments[0]!.versions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A Workers Analytics Engine data point as the stand-in stores it (what `writeDataPoint` sent, plus when and its sampling). */
export interface FakeDataPoint {
  blobs?: (string | null)[];
  doubles?: number[];
  indexes?: (string | null)[];
  /** Epoch ms; default now. */
  timestampMs?: number;
  /** How many events this row stands for (Analytics Engine sampling); default 1. */
  sampleInterval?: number;
}

const AE_COLUMNS = new Set(['dataset', 'timestamp', '_sample_interval', 'index1', ...Array.from({ length: 20 }, (_, i) => `blob${i + 1}`), ...Array.from({ length: 20 }, (_, i) => `double${i + 1}`)]);

/** Splits on `sep` outside parentheses and quotes. */
function splitTop(text: string, sep: RegExp): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0) {
      const m = sep.exec(text.slice(i));
      if (m && m.index === 0) {
        out.push(text.slice(start, i).trim());
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  out.push(text.slice(start).trim());
  return out;
}

class SqlError extends Error {}

type Row = { ts: number; si: number; col: (name: string) => string | number };

function column(name: string): (r: Row) => string | number {
  if (!AE_COLUMNS.has(name)) throw new SqlError(`unknown column: ${name}`);
  return (r) => r.col(name);
}

/**
 * The Analytics Engine SQL the release gate sends, evaluated over stored points: `SELECT` of
 * columns and `SUM(_sample_interval)`, `SUM(IF(<col> >= <n>, _sample_interval, 0))`,
 * `quantileExactWeighted(<q>)(<col>, _sample_interval)` with `AS` aliases, `FROM <dataset>`,
 * `WHERE` of `=`, `IN`, `NOT IN`, and `timestamp` comparisons with `toDateTime('YYYY-MM-DD HH:MM:SS')`
 * joined by `AND`, `GROUP BY`, `FORMAT JSON`. Unknown columns and datasets are refused; any
 * other SQL is refused too (the stand-in does not pretend to run what it cannot).
 */
export function runAnalyticsSql(sql: string, datasets: Map<string, FakeDataPoint[]>): { meta: { name: string; type: string }[]; data: Record<string, unknown>[]; rows: number } {
  const m = /^\s*SELECT\s+(.+?)\s+FROM\s+(\S+)\s+WHERE\s+(.+?)\s+GROUP BY\s+(.+?)\s+FORMAT\s+JSON\s*$/is.exec(sql);
  if (!m) throw new SqlError('the stand-in understands SELECT … FROM … WHERE … GROUP BY … FORMAT JSON only');
  const [, selectList, table, whereText, groupText] = m as unknown as [string, string, string, string, string];
  const points = datasets.get(table);
  if (!points) throw new SqlError(`unknown table: ${table}`);
  const rows: Row[] = points.map((p) => ({
    ts: p.timestampMs ?? 0,
    si: p.sampleInterval ?? 1,
    col: (name) => {
      if (name === 'dataset') return table;
      if (name === 'timestamp') return p.timestampMs ?? 0;
      if (name === '_sample_interval') return p.sampleInterval ?? 1;
      if (name === 'index1') return p.indexes?.[0] ?? '';
      const b = /^blob(\d+)$/.exec(name);
      if (b) return p.blobs?.[Number(b[1]) - 1] ?? '';
      const d = /^double(\d+)$/.exec(name);
      return p.doubles?.[Number(d![1]) - 1] ?? 0;
    },
  }));

  const dateTime = (text: string) => {
    const d = /^toDateTime\('(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)'\)$/.exec(text.trim());
    if (!d) throw new SqlError(`cannot read ${text} as a DateTime`);
    return Date.parse(`${d[1]!.replace(' ', 'T')}Z`);
  };
  const filters = splitTop(whereText, /^\s+AND\s+/i).map((cond): ((r: Row) => boolean) => {
    let c: RegExpExecArray | null;
    if ((c = /^(\w+)\s*=\s*'([^']*)'$/.exec(cond))) {
      const get = column(c[1]!);
      const v = c[2];
      return (r) => get(r) === v;
    }
    if ((c = /^(\w+)\s+(NOT\s+)?IN\s*\((.*)\)$/i.exec(cond))) {
      const get = column(c[1]!);
      const negate = c[2] !== undefined;
      const values = splitTop(c[3]!, /^,/).map((x) => /^'([^']*)'$/.exec(x)?.[1] ?? (() => { throw new SqlError(`not a string literal: ${x}`); })());
      return (r) => values.includes(String(get(r))) !== negate;
    }
    if ((c = /^timestamp\s*(>=|>|<=|<)\s*(.+)$/.exec(cond))) {
      const bound = dateTime(c[2]!);
      const op = c[1];
      return (r) => (op === '>=' ? r.ts >= bound : op === '>' ? r.ts > bound : op === '<=' ? r.ts <= bound : r.ts < bound);
    }
    throw new SqlError(`the stand-in cannot evaluate the condition ${cond}`);
  });

  type Item = { alias: string; type: string; key?: (r: Row) => string | number; agg?: (rs: Row[]) => number | string };
  const items: Item[] = splitTop(selectList, /^,/).map((item) => {
    const a = /^(.+?)\s+AS\s+(\w+)$/is.exec(item);
    if (!a) throw new SqlError(`every selected expression needs AS <alias> in the stand-in: ${item}`);
    const [, expr, alias] = a as unknown as [string, string, string];
    let c: RegExpExecArray | null;
    if (/^\w+$/.test(expr)) {
      const get = column(expr);
      return { alias, type: expr.startsWith('double') || expr === '_sample_interval' ? 'Float64' : expr === 'timestamp' ? 'DateTime' : 'String', key: get };
    }
    if (/^SUM\(_sample_interval\)$/i.test(expr)) return { alias, type: 'UInt64', agg: (rs) => String(rs.reduce((s, r) => s + r.si, 0)) };
    if ((c = /^SUM\(IF\((\w+)\s*>=\s*(\d+(?:\.\d+)?),\s*_sample_interval,\s*0\)\)$/i.exec(expr))) {
      const get = column(c[1]!);
      const min = Number(c[2]);
      return { alias, type: 'UInt64', agg: (rs) => String(rs.reduce((s, r) => s + (Number(get(r)) >= min ? r.si : 0), 0)) };
    }
    if ((c = /^quantileExactWeighted\((0(?:\.\d+)?|1)\)\((\w+),\s*_sample_interval\)$/.exec(expr))) {
      const get = column(c[2]!);
      const q = Number(c[1]);
      return {
        alias,
        type: 'Float64',
        agg: (rs) => {
          // ClickHouse's quantileExactWeighted: the value whose cumulative weight first exceeds q × total.
          const sorted = rs.map((r) => ({ v: Number(get(r)), w: r.si })).sort((x, y) => x.v - y.v);
          const total = sorted.reduce((s, x) => s + x.w, 0);
          let acc = 0;
          for (const x of sorted) {
            acc += x.w;
            if (acc > q * total) return x.v;
          }
          return sorted.at(-1)?.v ?? 0;
        },
      };
    }
    if (/^\w+\(/.test(expr)) throw new SqlError(`the stand-in does not implement ${expr}`);
    throw new SqlError(`cannot read the expression ${expr}`);
  });
  const groupKeys = splitTop(groupText, /^,/).map((g) => {
    const item = items.find((i) => i.alias === g && i.key);
    if (item) return item.key!;
    return column(g);
  });
  for (const i of items) if (i.key && !groupKeys.includes(i.key) && !splitTop(groupText, /^,/).includes(i.alias)) throw new SqlError(`${i.alias} is neither aggregated nor in GROUP BY`);

  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (!filters.every((f) => f(r))) continue;
    const k = JSON.stringify(groupKeys.map((g) => g(r)));
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const data = [...groups.values()].map((rs) => Object.fromEntries(items.map((i) => [i.alias, i.key ? i.key(rs[0]!) : i.agg!(rs)])));
  return { meta: items.map((i) => ({ name: i.alias, type: i.type })), data, rows: data.length };
}

if (isEntryPoint(import.meta.url)) {
  const fake = await startFakeCloudflare({ port: Number(process.env.PORT ?? 0), queues: (process.env.QUEUES ?? '').split(',').filter(Boolean) });
  console.log(`fake Cloudflare API: CLOUDFLARE_API_BASE_URL=${fake.apiBase} (initial version ${fake.current()[0]!.version_id})`);
}
