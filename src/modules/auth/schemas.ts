import { z } from '@hono/zod-openapi';
import { emailOut, instantOut, integerOut, text, uuidOut } from '../../http/schemas.js';

export const Email = text({ max: 254 })
  .toLowerCase()
  .pipe(z.email({ message: 'must be a valid email address' }))
  .openapi({ example: 'ada@example.com' });

/** NIST 800-63B: at least 8 characters, allow long passphrases, no composition rules. */
export const NewPassword = text({ max: 128, trim: false })
  .min(8, 'must be at least 8 characters')
  .max(128, 'must be at most 128 characters')
  .openapi({ example: 'correct horse battery staple' });

export const RegisterBody = z
  .object({
    email: Email,
    password: NewPassword,
    name: text({ min: 1, max: 100 }).optional().openapi({ example: 'Ada Lovelace' }),
  })
  .strict()
  .openapi('RegisterRequest');

export const LoginBody = z
  .object({
    email: Email,
    password: text({ min: 1, max: 128, trim: false }),
  })
  .strict()
  .openapi('LoginRequest');

export const RefreshBody = z
  .object({
    refreshToken: text({ min: 16, max: 256, trim: false }).openapi({ example: 'qH3x9Ue2o1k4qU2mWlZ5Zc0m2m3Cq8zC9b5S0xk0bV4' }),
  })
  .strict()
  .openapi('RefreshRequest');

export const UserSchema = z
  .object({
    id: uuidOut(),
    email: emailOut().openapi({ example: 'ada@example.com' }),
    role: z.enum(['customer', 'staff', 'admin']),
    name: z.string().nullable(),
    createdAt: instantOut().openapi({ example: '2026-11-28T17:49:23.000Z' }),
  })
  .openapi('User');

export const SessionSchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().openapi({ description: 'HS256 JWT; send as `Authorization: Bearer <token>`.' }),
    tokenType: z.literal('Bearer'),
    expiresIn: integerOut().openapi({ description: 'Access token lifetime in seconds.', example: 900 }),
    refreshToken: z.string().openapi({ description: 'Opaque, single-use. Rotate it with /v1/auth/refresh.' }),
    refreshTokenExpiresAt: instantOut(),
  })
  .openapi('Session');

/**
 * A BCP 47 language tag (`en-GB`, `es`, `pt-BR`), canonicalised as `Intl.getCanonicalLocales`
 * does (`EN-gb` is stored as `en-GB`); anything it refuses is 422 on the field. It picks the
 * language of the notifications a user is sent.
 */
export function localeTag() {
  return text({ min: 2, max: 35 })
    .refine((v) => canonicalLocale(v) !== null, { error: 'must be a BCP 47 language tag, e.g. en-GB', abort: true })
    .overwrite((v) => canonicalLocale(v) ?? v)
    .openapi({ example: 'en-GB', description: 'BCP 47 language tag; stored canonicalised (`EN-gb` → `en-GB`).' });
}

/** `value` canonicalised as a BCP 47 tag, or null when it is not one. */
export function canonicalLocale(value: string): string | null {
  try {
    return Intl.getCanonicalLocales(value)[0] ?? null;
  } catch {
    return null;
  }
}

/** E.164 (ITU-T): `+`, a country code that does not start with 0, at most 15 digits in all. No spaces or dashes. */
export const E164 = /^\+[1-9][0-9]{1,14}$/;

export const PhoneNumber = text({ min: 3, max: 16 })
  .regex(E164, 'must be an E.164 number: + then up to 15 digits, no spaces (e.g. +447700900123)')
  .openapi({ example: '+447700900123', description: 'E.164: the number SMS notifications are sent to.' });

export const CurrentUserSchema = UserSchema.extend({
  phone: z.string().nullable().openapi({ example: '+447700900123', description: 'E.164; SMS notifications need it.' }),
  locale: z.string().nullable().openapi({ example: 'en-GB', description: 'BCP 47; the language of notifications (a device’s own locale wins for push).' }),
  emailVerified: z.boolean().openapi({
    description: 'Whether `email` was shown to be the user’s: a verification link confirmed (POST /v1/auth/verify-email), a password reset completed, or an Apple/Google sign-in whose provider vouched for it.',
  }),
}).openapi('CurrentUser');

export const UpdateCurrentUserBody = z
  .object({
    name: text({ min: 1, max: 100 }).nullable().openapi({ example: 'Ada Lovelace' }),
    phone: PhoneNumber.nullable(),
    locale: localeTag().nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateCurrentUserRequest', { description: 'Send only the fields to change; `null` clears one.' });

export type UpdateCurrentUserInput = z.infer<typeof UpdateCurrentUserBody>;
export type RegisterInput = z.infer<typeof RegisterBody>;
export type LoginInput = z.infer<typeof LoginBody>;

/**
 * Apple's `authorizationCode` (single use, valid 5 minutes): exchanged for a refresh token that
 * account deletion revokes (src/account/apple-tokens.ts). Ignored for Google.
 */
export const AppleAuthorizationCode = text({ min: 1, max: 1024 }).openapi({
  description:
    'Apple only: the `authorizationCode` of the same sign-in. When Apple token revocation is configured, the server exchanges it for a refresh token, kept sealed, which it revokes at Apple when the account is deleted (App Store guideline 5.1.1(v)). A failed exchange is logged and never fails the sign-in.',
  example: 'c1a2b3c4d5e6f.0.abcd.EfGhIjKlMnOpQrStUvWxYz',
});

/** Sign in with Apple or Google (src/modules/auth/oauth.ts). */
export const OAuthBody = z
  .object({
    idToken: text({ min: 20, max: 8192, trim: false }).openapi({
      description: 'The ID token (a JWT) the provider gave the app: Apple’s `identityToken`, Google’s `idToken`.',
      example: 'eyJraWQiOiJXNldjT0tCIiwiYWxnIjoiUlMyNTYifQ.eyJpc3MiOiJodHRwczovL2FwcGxlaWQuYXBwbGUuY29tIn0.c2ln',
    }),
    nonce: text({ min: 16, max: 512, trim: false }).openapi({
      description:
        'The raw nonce the app generated for this sign-in (random, at least 16 characters). Apple: the app gave Apple its SHA-256 as lowercase hex, which the token carries; Google: the app gave Google this value itself.',
      example: 'f1c0e4b7a5d24c7f9b3e8a61d2c5f0a9',
    }),
    name: text({ min: 1, max: 100 }).optional().openapi({
      description: 'The user’s name, which Apple gives only to the app and only on the first sign-in; used when the account is created.',
      example: 'Ada Lovelace',
    }),
    authorizationCode: AppleAuthorizationCode.optional(),
  })
  .strict()
  .openapi('OAuthSignInRequest');

export type OAuthInput = z.infer<typeof OAuthBody>;

// The caller's sessions and password (./sessions.ts).

export const SessionInfoSchema = z
  .object({
    id: uuidOut().openapi({ description: 'The session id: what DELETE /v1/me/sessions/{id} takes.' }),
    deviceLabel: z.string().nullable().openapi({ description: 'The User-Agent the app sent when it logged in (cleaned, at most 200 characters); null if none.', example: 'LaundryApp/1.4.0 (iPhone; iOS 18.1)' }),
    createdAt: instantOut().openapi({ description: 'The login or registration that started the session (UTC).' }),
    lastUsedAt: instantOut().openapi({ description: 'Its latest token refresh, or the login (UTC).' }),
    expiresAt: instantOut().openapi({ description: 'When it ends unless the app refreshes before (UTC).' }),
    current: z.boolean().openapi({ description: 'The session of the access token this request was made with.' }),
  })
  .openapi('SessionInfo');

export const SessionListSchema = z.object({ data: z.array(SessionInfoSchema) }).openapi('SessionList');

export const EndedSchema = z
  .object({ endedSessions: integerOut().openapi({ description: 'How many sessions this ended.', example: 2 }) })
  .openapi('EndedSessions');

export const ChangePasswordBody = z
  .object({
    currentPassword: text({ min: 1, max: 128, trim: false }),
    newPassword: NewPassword,
  })
  .strict()
  .openapi('ChangePasswordRequest');
