/**
 * stripe-stand-in, part: failure injection (`failNext`): pending rules, and answering a request
 * with the injected failure — a 500, a held-open request that is then dropped, or a dropped
 * connection. Whether the failure is stored for the idempotency key is decided in index.ts.
 */
import type http from 'node:http';
import { INJECTED_SERVER_ERROR } from './idempotency.js';
import type { FailNextOptions, RecordedRequest } from './types.js';
import { pathMatches } from './util.js';

export const DEFAULT_TIMEOUT_HOLD_MS = 30_000;

export interface Rule extends FailNextOptions {
  remaining: number;
}

export function sendJson(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache, no-store', ...headers });
  res.end(body);
}

export class FailureRules {
  private rules: Rule[] = [];
  private readonly held = new Set<{ timer: NodeJS.Timeout; res: http.ServerResponse }>();

  add(o: FailNextOptions): void {
    if (!['decline', 'server_error', 'timeout', 'disconnect'].includes(o.mode)) throw new Error(`failNext: unknown mode ${String(o.mode)}`);
    if (o.mode === 'decline' && o.applyThenFail) throw new Error('failNext: applyThenFail does not apply to decline');
    if (o.stored !== undefined && o.mode !== 'server_error') throw new Error('failNext: stored applies to server_error only');
    this.rules.push({ ...o, remaining: o.times ?? 1 });
  }

  /** Consumes the first matching rule: a `decline` one, or any other. */
  take(method: string, path: string, decline: boolean): Rule | null {
    const rule = this.rules.find((r) => (r.mode === 'decline') === decline && pathMatches(r, method, path));
    if (!rule) return null;
    if (--rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule;
  }

  /** Answers with the rule's failure instead of the real answer. */
  fail(res: http.ServerResponse, rule: Rule, rec: RecordedRequest, headers: Record<string, string>): void {
    rec.outcome = rule.mode;
    if (rule.mode === 'server_error') {
      rec.status = 500;
      return sendJson(res, 500, INJECTED_SERVER_ERROR, headers);
    }
    if (rule.mode === 'disconnect') return void res.socket?.destroy();
    const entry = { res, timer: setTimeout(() => (this.held.delete(entry), res.socket?.destroy()), rule.ms ?? DEFAULT_TIMEOUT_HOLD_MS) };
    entry.timer.unref();
    this.held.add(entry);
    res.on('close', () => (clearTimeout(entry.timer), this.held.delete(entry)));
  }

  /** Forgets pending rules (held requests stay held until they time out). */
  clear(): void {
    this.rules = [];
  }

  /** Drops every held request (on close). */
  dropHeld(): void {
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.res.socket?.destroy();
    }
    this.held.clear();
  }
}
