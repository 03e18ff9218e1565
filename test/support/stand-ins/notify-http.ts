/**
 * The plumbing the notification stand-ins share: a node:http server on 127.0.0.1 with a random
 * port, the request body read whole, JSON answers, and the faults every provider can be told to
 * answer next (a status with Retry-After, or no answer at all until the server closes).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface StandInAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** `hang`: the request is read and never answered (a timeout for the client). */
export type Fault = { status: 429 | 500 | 502 | 503 | 504; retryAfter?: string } | { hang: true };

/** `undefined` from the handler = hang (never answer). */
export type Handler = (req: StandInRequest) => StandInAnswer | undefined | Promise<StandInAnswer | undefined>;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: StandInRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      Promise.resolve(handler(request))
        .then((answer) => {
          if (answer === undefined) return; // hang
          const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
          res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...(answer.headers ?? {}) });
          res.end(text);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`stand-in error: ${String(error)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Faults queued for the next calls, taken one per call. */
export class FaultQueue {
  private queue: Fault[] = [];
  push(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.queue.push(fault);
  }
  take(): Fault | undefined {
    return this.queue.shift();
  }
  clear(): void {
    this.queue = [];
  }
}

export const randomHex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

export function formBody(req: StandInRequest): URLSearchParams | undefined {
  const type = String(req.headers['content-type'] ?? '');
  return type.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(req.body) : undefined;
}
