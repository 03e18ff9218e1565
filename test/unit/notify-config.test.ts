import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createChannelClients, logChannelSetup } from '../../src/notifications/channels/index.js';
import { createMemoryLogger } from '../../src/logger.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
const account = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'service_account', project_id: 'laundry-1', client_email: 'n@laundry-1.iam.gserviceaccount.com', private_key: PEM, ...over });
const SID = `AC${'a'.repeat(32)}`;
const prod = {
  APP_ENV: 'production',
  DATABASE_URL: 'postgres://app:pw@ep-cool-1.eu-central-1.aws.neon.tech/laundry',
  JWT_SECRET: 'k'.repeat(48),
  STRIPE_SECRET_KEY: 'sk_live_51Habcdefghijklmnop',
  STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnopqrstuvwxyz',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

const deps = () => ({ deps: { fetch: (() => Promise.reject(new Error('no network in unit tests'))) as typeof fetch, logger: createMemoryLogger(), now: () => new Date() } });

describe('notification settings (loadConfig)', () => {
  it('nothing set: no provider, the default 10 s request bound', () => {
    expect(loadConfig({}).notifications).toEqual({ timeoutMs: 10_000 });
  });

  it('reads a service-account key file: defaults token_uri, turns literal \\n back into newlines, keeps the key id', () => {
    const c = loadConfig({ FCM_SERVICE_ACCOUNT_JSON: account({ private_key: PEM.replace(/\n/g, '\\n'), private_key_id: 'kid1' }) });
    expect(c.notifications.fcm).toEqual({
      apiUrl: 'https://fcm.googleapis.com',
      serviceAccount: { projectId: 'laundry-1', clientEmail: 'n@laundry-1.iam.gserviceaccount.com', privateKey: PEM, privateKeyId: 'kid1', tokenUri: 'https://oauth2.googleapis.com/token' },
    });
  });

  it('bad JSON, a missing private_key or field, a non-PEM key, another key type: a ConfigError naming FCM_SERVICE_ACCOUNT_JSON, never quoting the key', () => {
    expect(problemsOf({ FCM_SERVICE_ACCOUNT_JSON: '{"project_id": "x",' })).toEqual(['FCM_SERVICE_ACCOUNT_JSON: is not valid JSON (paste the whole service-account key file)']);
    expect(problemsOf({ FCM_SERVICE_ACCOUNT_JSON: account({ private_key: undefined }) })).toEqual(['FCM_SERVICE_ACCOUNT_JSON: is missing private_key']);
    expect(problemsOf({ FCM_SERVICE_ACCOUNT_JSON: account({ project_id: '', client_email: undefined }) })).toEqual(['FCM_SERVICE_ACCOUNT_JSON: is missing project_id, client_email']);
    const notPem = problemsOf({ FCM_SERVICE_ACCOUNT_JSON: account({ private_key: 'secret-key-material' }) });
    expect(notPem).toEqual(['FCM_SERVICE_ACCOUNT_JSON: private_key is not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)']);
    expect(problemsOf({ FCM_SERVICE_ACCOUNT_JSON: account({ type: 'authorized_user' }) })[0]).toMatch(/^FCM_SERVICE_ACCOUNT_JSON: has type "authorized_user"/);
    expect(problemsOf({ FCM_SERVICE_ACCOUNT_JSON: '[1]' })).toEqual(['FCM_SERVICE_ACCOUNT_JSON: must be a JSON object (the service-account key file)']);
  });

  it('Twilio: the auth token or an API key pair, and From or a Messaging Service; a partial setup is refused naming what is missing', () => {
    expect(loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 't0ken', TWILIO_FROM: '+15005550006' }).notifications.twilio).toEqual({
      accountSid: SID,
      username: SID,
      password: 't0ken',
      from: '+15005550006',
      apiUrl: 'https://api.twilio.com',
    });
    const key = `SK${'b'.repeat(32)}`;
    const service = `MG${'c'.repeat(32)}`;
    expect(loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY_SID: key, TWILIO_API_KEY_SECRET: 's3cret', TWILIO_MESSAGING_SERVICE_SID: service }).notifications.twilio).toMatchObject({
      username: key,
      password: 's3cret',
      messagingServiceSid: service,
    });
    expect(problemsOf({ TWILIO_ACCOUNT_SID: SID })).toEqual([
      'TWILIO_AUTH_TOKEN: is required (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)',
      'TWILIO_FROM: or TWILIO_MESSAGING_SERVICE_SID is required to send SMS',
    ]);
    expect(problemsOf({ TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006' })).toEqual(['TWILIO_ACCOUNT_SID: is required when any TWILIO_ setting is set']);
    expect(problemsOf({ TWILIO_ACCOUNT_SID: SID, TWILIO_API_KEY_SID: key, TWILIO_FROM: '+1' })).toContain('TWILIO_API_KEY_SID: and TWILIO_API_KEY_SECRET must be set together');
    expect(problemsOf({ TWILIO_ACCOUNT_SID: 'AC123' })[0]).toMatch(/^TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits/);
  });

  it('Resend: the key and the sender together; a malformed sender is refused', () => {
    expect(loadConfig({ RESEND_API_KEY: 're_123', EMAIL_FROM: 'Laundry <orders@laundry.example>' }).notifications.resend).toEqual({
      apiKey: 're_123',
      from: 'Laundry <orders@laundry.example>',
      apiUrl: 'https://api.resend.com',
    });
    expect(problemsOf({ RESEND_API_KEY: 're_123' })).toEqual(['EMAIL_FROM: is required when RESEND_API_KEY is set']);
    expect(problemsOf({ EMAIL_FROM: 'orders@laundry.example' })).toEqual(['RESEND_API_KEY: is required when EMAIL_FROM is set']);
    expect(problemsOf({ RESEND_API_KEY: 're_123', EMAIL_FROM: 'orders' })[0]).toMatch(/^EMAIL_FROM: must be an address/);
  });

  it('production refuses the stand-in URLs and placeholder provider secrets', () => {
    const problems = problemsOf({
      ...prod,
      FCM_API_URL: 'http://127.0.0.1:1',
      TWILIO_API_URL: 'http://127.0.0.1:2',
      RESEND_API_URL: 'http://127.0.0.1:3',
      RESEND_API_KEY: 'your_resend_key',
      EMAIL_FROM: 'a@b.example',
    });
    expect(problems).toEqual([
      'FCM_API_URL: must not be set when APP_ENV=production',
      'TWILIO_API_URL: must not be set when APP_ENV=production',
      'RESEND_API_URL: must not be set when APP_ENV=production',
      'RESEND_API_KEY: is a placeholder value; set the real secret',
    ]);
    expect(problemsOf({ ...prod, FCM_SERVICE_ACCOUNT_JSON: account({ token_uri: 'http://127.0.0.1:4/token' }) })).toEqual([
      'FCM_SERVICE_ACCOUNT_JSON: token_uri must be https when APP_ENV=production',
    ]);
    expect(loadConfig({ ...prod, FCM_SERVICE_ACCOUNT_JSON: account() }).notifications.fcm?.serviceAccount.tokenUri).toBe('https://oauth2.googleapis.com/token');
    expect(problemsOf({ NOTIFY_TIMEOUT_MS: '5' })).toEqual(['NOTIFY_TIMEOUT_MS: must be an integer between 10 and 30000']);
  });
});

describe('createChannelClients', () => {
  it('development with no provider: the log client stands in for every channel', () => {
    const { clients, notConfigured } = createChannelClients(loadConfig({ APP_ENV: 'development' }), deps().deps);
    expect(Object.values(clients).map((c) => `${c.channel}:${c.provider}`)).toEqual(['push:log', 'sms:log', 'email:log']);
    expect(notConfigured).toEqual([]);
  });

  it('test and production: a channel without credentials is absent and listed; no log stand-in', () => {
    expect(createChannelClients(loadConfig({ APP_ENV: 'test' }), deps().deps)).toEqual({ clients: {}, notConfigured: ['push', 'sms', 'email'] });
    const some = createChannelClients(loadConfig({ ...prod, RESEND_API_KEY: 're_live_abcdef', EMAIL_FROM: 'a@b.example' }), deps().deps);
    expect(Object.keys(some.clients)).toEqual(['email']);
    expect(some.clients.email?.provider).toBe('resend');
    expect(some.notConfigured).toEqual(['push', 'sms']);
  });

  it('development with one provider: that one is real, the others are absent (not silently logged)', () => {
    const some = createChannelClients(loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006', FCM_SERVICE_ACCOUNT_JSON: account() }), deps().deps);
    expect(Object.fromEntries(Object.entries(some.clients).map(([k, c]) => [k, c.provider]))).toEqual({ push: 'fcm', sms: 'twilio' });
    expect(some.notConfigured).toEqual(['email']);
  });
});

describe('logChannelSetup', () => {
  it('warns once per skipped channel; says when the log client stands in', () => {
    const logger = createMemoryLogger();
    logChannelSetup(logger, createChannelClients(loadConfig({ APP_ENV: 'test', RESEND_API_KEY: 're_1', EMAIL_FROM: 'a@b.example' }), deps().deps));
    expect(logger.entries.map((e) => `${String(e.level)} ${String(e.msg)}`)).toEqual(['warn push not configured: skipped', 'warn sms not configured: skipped']);
    const dev = createMemoryLogger();
    logChannelSetup(dev, createChannelClients(loadConfig({}), deps().deps));
    expect(dev.entries).toMatchObject([{ level: 'info', channels: ['push', 'sms', 'email'] }]);
  });
});
