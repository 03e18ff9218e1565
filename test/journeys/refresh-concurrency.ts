import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail, type ApiResponse } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/**
 * What the refresh journey needs besides a harness: a way to make the app's time pass.
 * Node moves the app's injected clock; workerd has the system clock, so it moves the user's
 * refresh-token timestamps back by the same amount (the same state, seen from the app).
 */
export interface RefreshTime {
  harness: Harness;
  /** Makes `seconds` pass for the refresh tokens of `email`. */
  advance(email: string, seconds: number): Promise<void>;
}

const ROUNDS = 30;
/** Generous: a round that logs the user out logs in again (a password hash, slow in workerd). */
const ROUND_TIMEOUT = 180_000;
const PASSWORD = 'refresh race password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256Hex = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Refresh under concurrency (issue 14): a phone resuming from background fires several refreshes
 * of one token at once or a few ms apart. Within REFRESH_REUSE_GRACE_SECONDS every one answers 200
 * with the same successor, nothing is revoked and the successor refreshes again. Runs on Node
 * (PostgreSQL server) and inside workerd (neon-http through the local endpoint).
 */
export function refreshConcurrencyJourney(time: () => RefreshTime) {
  const api = () => time().harness.api;
  const refresh = (refreshToken: string) => api().post('/v1/auth/refresh', { refreshToken });

  const account = async (prefix: string) => {
    const email = uniqueEmail(prefix);
    const reg = await api().post('/v1/auth/register', { email, password: PASSWORD }, { headers: { 'cf-connecting-ip': randomIp(), 'x-forwarded-for': randomIp() } });
    expect(reg.status, reg.text).toBe(201);
    return { email, refreshToken: reg.body.refreshToken as string };
  };
  const login = async (email: string) => {
    const res = await api().post('/v1/auth/login', { email, password: PASSWORD });
    expect(res.status, res.text).toBe(200);
    return res.body.refreshToken as string;
  };
  /** The family of a token: how many are live and whether any was revoked for reuse. */
  const family = async (token: string) => {
    const rows = await time().harness.sql<{ live: number; reused: number }>(
      `SELECT count(*) FILTER (WHERE revoked_at IS NULL)::int AS live, count(*) FILTER (WHERE revoked_reason = 'reuse_detected')::int AS reused
       FROM refresh_tokens WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [await sha256Hex(token)],
    );
    return { live: Number(rows[0]!.live), reused: Number(rows[0]!.reused) };
  };

  /**
   * `ROUNDS` rounds of `fire` on one session's newest token. A round logs the user out when any
   * call is refused or the answers disagree; the journey then logs in again to go on, so the
   * count is the logout rate (asserted 0 at the end, after every round has run).
   */
  const rounds = async (prefix: string, fire: (token: string) => Promise<ApiResponse[]>) => {
    const { email, refreshToken } = await account(prefix);
    let token = refreshToken;
    const loggedOut: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await fire(token);
      const refused = replies.filter((r) => r.status !== 200);
      const successors = new Set(replies.filter((r) => r.status === 200).map((r) => r.body.refreshToken as string));
      const state = successors.size === 1 ? await family([...successors][0]!) : undefined;
      if (refused.length > 0 || successors.size !== 1 || state?.live !== 1 || state.reused !== 0) {
        loggedOut.push(`round ${round}: ${replies.map((r) => (r.status === 200 ? 200 : `${r.status} ${r.body.code}`)).join(', ')}; live ${state?.live}`);
        try {
          token = await login(email);
        } catch (error) {
          throw new Error(`${loggedOut.join('\n')}\nthen logging in again failed: ${String(error)}`, { cause: error });
        }
        continue;
      }
      const next = [...successors][0]!;
      expect(next).not.toBe(token);
      // Each caller got a working access token for the same user.
      const me = await api().get('/v1/me', { token: replies[replies.length - 1]!.body.accessToken });
      expect(me.status, me.text).toBe(200);
      expect(new Set(replies.map((r) => r.body.user.id)).size).toBe(1);
      token = next;
    }
    // The chain is still usable after all of it: the newest successor refreshes again.
    const last = await refresh(token);
    expect(last.status, last.text).toBe(200);
    expect(loggedOut.length, `${loggedOut.length}/${ROUNDS} rounds logged the user out:\n  ${loggedOut.join('\n  ')}\n`).toBe(0);
  };

  const parallel = (n: number) => (token: string) => Promise.all(Array.from({ length: n }, () => refresh(token)));

  describe('refresh under concurrency', () => {
    it(`2 parallel refreshes of one token, ${ROUNDS} rounds: both 200 with the same successor`, () => rounds('race2', parallel(2)), ROUND_TIMEOUT);
    it(`3 parallel refreshes of one token, ${ROUNDS} rounds`, () => rounds('race3', parallel(3)), ROUND_TIMEOUT);
    it(`10 parallel refreshes of one token, ${ROUNDS} rounds`, () => rounds('race10', parallel(10)), ROUND_TIMEOUT);
    it(`two refreshes 5 ms apart, ${ROUNDS} rounds`, () =>
      rounds('race5ms', async (token) => {
        const first = refresh(token);
        await sleep(5);
        return Promise.all([first, refresh(token)]);
      }), ROUND_TIMEOUT);

    it('a repeat within the grace window answers the same successor; after it, reuse revokes the family', async () => {
      const { email, refreshToken: original } = await account('grace');
      const rotated = await refresh(original);
      expect(rotated.status, rotated.text).toBe(200);
      // Sequential, well inside the window: the same successor and its expiry, a fresh access token.
      const repeat = await refresh(original);
      expect(repeat.status, repeat.text).toBe(200);
      expect(repeat.body.refreshToken).toBe(rotated.body.refreshToken);
      expect(repeat.body.refreshTokenExpiresAt).toBe(rotated.body.refreshTokenExpiresAt);
      expect(repeat.body.user.id).toBe(rotated.body.user.id);
      expect((await api().get('/v1/me', { token: repeat.body.accessToken })).status).toBe(200);
      expect(await family(original)).toEqual({ live: 1, reused: 0 });

      // 31 s later (the default window is 30 s): a replay. The family dies, the successor with it.
      await time().advance(email, 31);
      expectProblem(await refresh(original), 401, 'refresh_token_reused');
      expect(await family(original)).toEqual({ live: 0, reused: 1 });
      expectProblem(await refresh(rotated.body.refreshToken), 401, 'refresh_token_reused');
      // Another login of the same user is another family: untouched.
      const other = await refresh(await login(email));
      expect(other.status, other.text).toBe(200);
    });

    it('within the window, a successor already rotated again or logged out answers its own code and revokes nothing', async () => {
      const { refreshToken: original } = await account('moved-on');
      const first = await refresh(original);
      expect(first.status, first.text).toBe(200);
      const second = await refresh(first.body.refreshToken);
      expect(second.status, second.text).toBe(200);
      // The chain moved on: the app should use its newest token; nobody is logged out.
      expectProblem(await refresh(original), 401, 'refresh_token_superseded');
      expect(await family(original)).toEqual({ live: 1, reused: 0 });
      expect((await refresh(second.body.refreshToken)).status).toBe(200);

      const { refreshToken: mine } = await account('logged-out');
      const rotated = await refresh(mine);
      expect(rotated.status, rotated.text).toBe(200);
      expect((await api().post('/v1/auth/logout', { refreshToken: rotated.body.refreshToken })).status).toBe(204);
      // Logged out between two concurrent refreshes: the late one does not bring the session back.
      expectProblem(await refresh(mine), 401, 'refresh_token_revoked');
      expectProblem(await refresh(rotated.body.refreshToken), 401, 'refresh_token_revoked');
    });

    it('expired, unknown and logged-out tokens each answer their own 401', async () => {
      const { email, refreshToken } = await account('expired');
      await time().advance(email, 31 * 86_400);
      expectProblem(await refresh(refreshToken), 401, 'refresh_token_expired');
      expectProblem(await refresh('A'.repeat(43)), 401, 'invalid_refresh_token');

      const { refreshToken: out } = await account('logout');
      expect((await api().post('/v1/auth/logout', { refreshToken: out })).status).toBe(204);
      expectProblem(await refresh(out), 401, 'refresh_token_revoked');
    });
  });
}

/** A documentation address (RFC 5737) per registration, so the per-address limit never trips. */
function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `198.51.${octet()}.${octet()}`;
}
