/**
 * The edge section's delaying proxy (a bench tool, never part of src/): it sits between the
 * Worker and the local Neon endpoint and holds every request a fixed time before forwarding it,
 * as one network round trip to Neon would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISPATCH_MARK } from '../../src/notifications/dispatch-sql.js';

/**
 * A forwarding proxy (node:http both ways, keep-alive upstream): each request waits `delayMs`
 * and is then sent on unchanged; the answer comes back unchanged. It records when each SQL
 * request arrived, so a caller can count what one of its own requests caused.
 */
export interface DelayProxy {
  url: string;
  delayMs: number;
  /** POST /sql requests since the last reset: arrival (performance.now()) and, once answered, how long it was held (the delay plus any timer lateness) and the upstream time (local Neon + PostgreSQL), ms. */
  arrivals: Array<{ at: number; heldMs?: number; upstreamMs?: number; notification?: boolean }>;
  inFlight: number;
  lastActivity: number;
  reset(): void;
  /** Resolves once nothing has been in flight for `quietMs` (background work has landed). */
  settle(quietMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDelayProxy(upstream: string, delayMs: number): Promise<DelayProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const state = {
    delayMs,
    arrivals: [] as Array<{ at: number; heldMs?: number; upstreamMs?: number; notification?: boolean }>,
    inFlight: 0,
    lastActivity: performance.now(),
  };
  const server = http.createServer((req, res) => {
    state.inFlight++;
    state.lastActivity = performance.now();
    const entry =
      req.method === 'POST' && req.url?.startsWith('/sql')
        ? { at: state.lastActivity, heldMs: undefined as number | undefined, upstreamMs: undefined as number | undefined, notification: false }
        : undefined;
    if (entry) state.arrivals.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The notification queue consumer's statements (a separate invocation of the Worker, woken
      // by the request's enqueue) lead with the dispatcher's tag (src/notifications/dispatch-sql.ts,
      // DISPATCH_MARK). Not the tables' names: a request writes outbox rows too (registration's
      // verification email), and those round trips are the request's own.
      if (entry) entry.notification = Buffer.concat(chunks).toString('utf8').includes(DISPATCH_MARK);
      setTimeout(() => {
        const headers = { ...req.headers, host: target.host };
        const sent = performance.now();
        if (entry) entry.heldMs = sent - entry.at;
        const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            if (entry) entry.upstreamMs = performance.now() - sent;
          });
        });
        up.on('error', (e) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`bench delay proxy: ${e.message}`);
        });
        up.end(Buffer.concat(chunks));
      }, state.delayMs);
    });
    res.on('close', () => {
      state.inFlight--;
      state.lastActivity = performance.now();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    get arrivals() {
      return state.arrivals;
    },
    get inFlight() {
      return state.inFlight;
    },
    get lastActivity() {
      return state.lastActivity;
    },
    reset() {
      state.arrivals = [];
    },
    async settle(quietMs: number) {
      while (state.inFlight > 0 || performance.now() - state.lastActivity < quietMs) await new Promise((r) => setTimeout(r, 5));
    },
    close() {
      agent.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
