/**
 * A Google service account as its JSON key file describes it (Firebase console → Project
 * settings → Service accounts → Generate new private key). Only the fields the OAuth 2.0 JWT
 * bearer grant and the FCM HTTP v1 URL need are kept.
 * Source: https://developers.google.com/identity/protocols/oauth2/service-account ("Preparing to
 * make an authorized API call"): iss = client_email, aud = token_uri, signed RS256 with private_key.
 */
export interface ServiceAccount {
  /** FCM's `projects/{project_id}/messages:send`. */
  projectId: string;
  /** The assertion's `iss`. */
  clientEmail: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the assertion's RS256 key. */
  privateKey: string;
  /** The key's id, sent as the assertion's `kid` header when present. */
  privateKeyId?: string;
  /** Where the assertion is exchanged for an access token; also the assertion's `aud`. */
  tokenUri: string;
}

const PKCS8_PEM = /^-----BEGIN PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]+-----END PRIVATE KEY-----\s*$/;

/**
 * Parses FCM_SERVICE_ACCOUNT_JSON. Returns the account, or a one-line problem (never quoting
 * the key) for the ConfigError: not JSON, not `type: service_account`, or a field missing.
 * `token_uri` defaults to https://oauth2.googleapis.com/token (what Google writes in key files).
 * A key file pasted with literal `\n` sequences in private_key (a common env-var mangling) is
 * accepted: they are turned back into newlines.
 */
export function parseServiceAccount(text: string): ServiceAccount | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'is not valid JSON (paste the whole service-account key file)';
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'must be a JSON object (the service-account key file)';
  const o = json as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && (o[k]).trim() !== '' ? (o[k]).trim() : undefined);
  if (o.type !== undefined && o.type !== 'service_account') return `has type ${JSON.stringify(o.type)}; a service_account key file is required`;
  const missing = ['project_id', 'client_email', 'private_key'].filter((k) => str(k) === undefined);
  if (missing.length > 0) return `is missing ${missing.join(', ')}`;
  const privateKey = str('private_key')!.replace(/\\n/g, '\n');
  if (!PKCS8_PEM.test(privateKey)) return 'private_key is not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)';
  const tokenUri = str('token_uri') ?? 'https://oauth2.googleapis.com/token';
  if (!/^https?:\/\/[^\s]+$/.test(tokenUri)) return 'token_uri must be a URL';
  return {
    projectId: str('project_id')!,
    clientEmail: str('client_email')!,
    privateKey,
    ...(str('private_key_id') ? { privateKeyId: str('private_key_id')! } : {}),
    tokenUri,
  };
}
