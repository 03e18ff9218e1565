import { z } from '@hono/zod-openapi';
import { text } from '../../http/schemas.js';
import { Email, NewPassword } from './schemas.js';

/** Request and response bodies of account recovery (./recovery-routes.ts). */

/** A one-time token as the email gives it: 256 bits in base64url (43 characters). */
const AccountToken = text({ min: 43, max: 64, trim: true })
  .regex(/^[A-Za-z0-9_-]+$/, 'must be the token from the email (letters, digits, - and _)')
  .openapi({ description: 'The token from the email (the link’s `token` parameter, or the code given as text).', example: 'q0Xl7yH3x9Ue2o1k4qU2mWlZ5Zc0m2m3Cq8zC9b5S0x' });

export const PasswordResetRequestBody = z.object({ email: Email }).strict().openapi('PasswordResetRequest');

export const PasswordResetConfirmBody = z.object({ token: AccountToken, newPassword: NewPassword }).strict().openapi('PasswordResetConfirmRequest');

export const VerifyEmailBody = z.object({ token: AccountToken }).strict().openapi('VerifyEmailRequest');

export const ChangeEmailBody = z
  .object({
    newEmail: Email,
    password: text({ min: 1, max: 128, trim: false }).openapi({ description: 'The account’s current password.' }),
  })
  .strict()
  .openapi('ChangeEmailRequest');

export const AcceptedSchema = z
  .object({ status: z.literal('accepted').openapi({ description: 'Always `accepted`: the same answer whatever happened behind it.' }) })
  .openapi('Accepted');

export const EmailVerifiedSchema = z
  .object({ email: z.email().openapi({ description: 'The account’s email, now verified (for an email change: the new one).', example: 'ada@example.com' }) })
  .openapi('EmailVerified');

export type PasswordResetConfirmInput = z.infer<typeof PasswordResetConfirmBody>;
export type ChangeEmailInput = z.infer<typeof ChangeEmailBody>;
