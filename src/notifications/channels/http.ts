import type { Logger } from '../../logger.js';

/** What every channel client is built over: both runtimes' global `fetch`, or a test's. */
export interface ChannelDeps {
  /**
   * Called unbound (`this` undefined), so the Worker's global fetch may be passed as is
   * (workerd throws "Illegal invocation" when fetch is called as a method of another object).
   */
  fetch: typeof fetch;
  logger: Logger;
  /** The clock (Deps.clock.now): token expiry and Retry-After dates are read against it. */
  now: () => Date;
}

/** One provider round trip: the answer (status, headers, body text), or why there is none. */
export type ProviderAnswer =
  | { kind: 'response'; status: number; headers: Headers; text: string }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'network'; error: string };

/**
 * One request with a per-request deadline (`AbortSignal.timeout`, both runtimes) covering the
 * headers and the body. Never throws: a timeout or a network failure is an answer.
 */
export async function providerRequest(deps: Pick<ChannelDeps, 'fetch'>, url: string, init: RequestInit, timeoutMs: number): Promise<ProviderAnswer> {
  try {
    const doFetch = deps.fetch;
    const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { kind: 'response', status: res.status, headers: res.headers, text };
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', timeoutMs };
    return { kind: 'network', error: error instanceof Error ? error.message : String(error) };
  }
}

/** The body as a JSON object, or undefined (not JSON, or not an object). */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `Retry-After` value in ms (RFC 9110 §10.2.3: delay-seconds or an HTTP-date, read against
 * `now`); undefined when absent or unreadable. Never negative.
 */
export function retryAfterMs(value: string | null | undefined, now: Date): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** The outcome for an answer that never came: always worth another try later. */
export function noAnswerError(provider: string, answer: Exclude<ProviderAnswer, { kind: 'response' }>): string {
  return answer.kind === 'timeout' ? `${provider}: no answer within ${answer.timeoutMs} ms` : `${provider}: network error: ${answer.error}`;
}

/** Text safe for a delivery's last_error: one line, bounded. */
export const clip = (text: string, max = 300) => text.replace(/\s+/g, ' ').trim().slice(0, max);
