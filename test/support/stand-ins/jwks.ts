/**
 * A stand-in for an OpenID provider's signing side (Apple's https://appleid.apple.com/auth/keys,
 * Google's https://www.googleapis.com/oauth2/v3/certs): a node:http server that publishes the
 * public half of keys it generates with jose, as the real endpoints do ({ keys: [JWK with kid,
 * use "sig", alg] }, GET only, JSON, Cache-Control), and signs ID tokens with the private half.
 *
 *   const idp = await startJwksStandIn('apple');
 *   const token = await idp.sign({ sub: '001.abc', aud: 'com.example.app', nonce: … });
 *   await idp.rotate();                       // a new key, published; the old one withdrawn
 *   await idp.rotate({ publish: false });     // signs with a key nobody can fetch
 *   idp.failNext(500);                        // the next key fetch fails
 *
 * Keys are RS256 by default; `sign(claims, { alg: 'ES256' })` uses the EC key it also publishes.
 * `fetches()` counts key-set requests, so a test can tell whether the app refetched.
 *
 * Tests that cannot hold the stand-in object (inside workerd: vitest.workers.config.ts starts it)
 * drive it over HTTP with `jwksControl(url)`: POST /__control/{sign,rotate,publish-all}, GET
 * /__control/fetches. The real endpoints have no such paths; the key-set path answers only GET.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { startServer, type StandInAnswer } from './notify-http.js';

export type JwksProvider = 'apple' | 'google';
export type SigningAlg = 'RS256' | 'ES256';

const PATHS: Record<JwksProvider, string> = { apple: '/auth/keys', google: '/oauth2/v3/certs' };
export const ISSUER: Record<JwksProvider, string> = { apple: 'https://appleid.apple.com', google: 'https://accounts.google.com' };

interface KeyPair {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  jwk: JWK;
  published: boolean;
}

export interface SignOptions {
  alg?: SigningAlg;
  /** Override the header's kid (e.g. one that was never published). */
  kid?: string;
  /** Seconds from now; default 600 (Apple's tokens live 10 minutes). */
  expiresIn?: number;
  /** `iat` as epoch seconds; default now. */
  issuedAt?: number;
}

export interface JwksStandIn {
  /** The key set's URL: APPLE_JWKS_URL / GOOGLE_JWKS_URL. */
  url: string;
  /** Signs an ID token: iss defaults to the provider's, iat/exp to now/+600 s; `claims` override. */
  sign(claims: JWTPayload, opts?: SignOptions): Promise<string>;
  /**
   * Replaces the signing keys (RS256 and ES256) with new ones, with new kids. `publish` (default
   * true): the new keys replace the old ones in the key set; false: they are not published (the
   * old ones stay), as if a token came from a key the provider never announced.
   */
  rotate(opts?: { publish?: boolean }): Promise<void>;
  /** Publishes keys made by `rotate({ publish: false })`. */
  publishAll(): void;
  /** Key-set requests served so far (failed ones included). */
  fetches(): number;
  /** The next key-set request answers this status. */
  failNext(status: 500 | 503): void;
  close(): Promise<void>;
}

let serial = 0;

async function newPair(alg: SigningAlg, published: boolean): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${process.pid}-${++serial}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg };
  return { kid, alg, privateKey, jwk, published };
}

export async function startJwksStandIn(provider: JwksProvider): Promise<JwksStandIn> {
  let keys: KeyPair[] = [await newPair('RS256', true), await newPair('ES256', true)];
  let signing: Record<SigningAlg, KeyPair> = { RS256: keys[0]!, ES256: keys[1]! };
  let served = 0;
  let fault: number | undefined;
  const path = PATHS[provider];

  // Set below, once the server's URL is known; the control paths call it.
  const ref: { self?: JwksStandIn } = {};
  const control = async (req: { method: string; path: string; body: string }): Promise<StandInAnswer> => {
    const input = (req.body ? JSON.parse(req.body) : {}) as { claims?: JWTPayload; opts?: SignOptions; publish?: boolean };
    if (req.method === 'POST' && req.path === '/__control/sign') return { status: 200, body: { token: await ref.self!.sign(input.claims ?? {}, input.opts ?? {}) } };
    if (req.method === 'POST' && req.path === '/__control/rotate') {
      await ref.self!.rotate({ publish: input.publish ?? true });
      return { status: 200, body: {} };
    }
    if (req.method === 'POST' && req.path === '/__control/publish-all') {
      ref.self!.publishAll();
      return { status: 200, body: {} };
    }
    if (req.method === 'GET' && req.path === '/__control/fetches') return { status: 200, body: { fetches: served } };
    return { status: 404, body: { error: 'not_found' } };
  };

  const server = await startServer((req): StandInAnswer | Promise<StandInAnswer> => {
    const url = new URL(req.path, 'http://stand-in');
    if (url.pathname.startsWith('/__control/')) return control({ method: req.method, path: url.pathname, body: req.body });
    if (url.pathname !== path) return { status: 404, body: { error: 'not_found' } };
    if (req.method !== 'GET') return { status: 405, body: { error: 'method_not_allowed' }, headers: { allow: 'GET' } };
    served++;
    if (fault !== undefined) {
      const status = fault;
      fault = undefined;
      return { status, body: { error: 'unavailable' } };
    }
    return {
      status: 200,
      body: { keys: keys.filter((k) => k.published).map((k) => k.jwk) },
      headers: { 'cache-control': 'public, max-age=21600, must-revalidate, no-transform' },
    };
  });

  const self: JwksStandIn = {
    url: `${server.url}${path}`,
    async sign(claims, opts = {}) {
      const key = signing[opts.alg ?? 'RS256'];
      const now = Math.floor(Date.now() / 1000);
      const iat = opts.issuedAt ?? now;
      return new SignJWT({ iss: ISSUER[provider], ...claims })
        .setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid })
        .setIssuedAt(iat)
        .setExpirationTime(iat + (opts.expiresIn ?? 600))
        .sign(key.privateKey);
    },
    async rotate({ publish = true } = {}) {
      const next = [await newPair('RS256', publish), await newPair('ES256', publish)];
      keys = publish ? next : [...keys, ...next];
      signing = { RS256: next[0]!, ES256: next[1]! };
    },
    publishAll() {
      for (const k of keys) k.published = true;
    },
    fetches: () => served,
    failNext(status) {
      fault = status;
    },
    close: () => server.close(),
  };
  ref.self = self;
  return self;
}

/** The stand-in at `jwksUrl` driven over HTTP (plain fetch: works inside workerd). */
export function jwksControl(jwksUrl: string) {
  const base = new URL(jwksUrl).origin;
  const call = async (path: string, body?: unknown) => {
    const res = await fetch(`${base}/__control/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`JWKS stand-in ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  return {
    sign: async (claims: JWTPayload, opts: SignOptions = {}) => (await call('sign', { claims, opts })).token as string,
    rotate: async (opts: { publish?: boolean } = {}) => {
      await call('rotate', opts);
    },
    publishAll: async () => {
      await call('publish-all', {});
    },
    fetches: async () => (await call('fetches')).fetches as number,
  };
}
