import { createRoute } from '@hono/zod-openapi';
import { problems } from '../../http/problem-docs.js';
import { createRouter, type Handler } from '../../http/context.js';
import { principalOf, requireAuth } from '../../http/middleware.js';
import { jsonBody, jsonResponse } from '../../http/validation.js';
import { CHANGE_EMAIL_MAX_PER_WINDOW, CHANGE_EMAIL_WINDOW_S, requestEmailChange } from './email-change.js';
import { RESEND_MAX_PER_ACCOUNT, RESEND_WINDOW_S, resendVerification, VERIFY_IP_WINDOW_S, VERIFY_MAX_PER_IP, verifyEmail } from './email-verification.js';
import {
  CONFIRM_MAX_PER_TOKEN,
  CONFIRM_TOKEN_WINDOW_S,
  confirmPasswordReset,
  requestPasswordReset,
  RESET_ADDRESS_WINDOW_S,
  RESET_IP_WINDOW_S,
  RESET_MAX_PER_ADDRESS,
  RESET_MAX_PER_IP,
} from './password-reset.js';
import { AcceptedSchema, ChangeEmailBody, EmailVerifiedSchema, PasswordResetConfirmBody, PasswordResetRequestBody, VerifyEmailBody } from './recovery-schemas.js';
import { EndedSchema } from './schemas.js';

/*
 * Account recovery (issue 18): password reset, email verification, email change. Operations:
 * ./password-reset.ts, ./email-verification.ts, ./email-change.ts; tokens: ./account-tokens.ts.
 * Mounted by src/app.ts.
 */

const min = (s: number) => `${s / 60} minutes`;

const tokenCodes =
  'Token refusals: 400 `recovery_token_invalid` (no such token for this operation, or voided since: the password or email changed, or the account was disabled), 410 `recovery_token_expired`, 410 `recovery_token_used` (also the loser of two concurrent uses of one token). Each is final for that token: ask for a new email.';

const requestResetRoute = createRoute({
  method: 'post',
  path: '/v1/auth/password-reset',
  operationId: 'createPasswordReset',
  tags: ['Auth'],
  summary: 'Email a password reset link',
  description: [
    'Always 202 with the same body, whether or not an account has this email, after the same work and the same single database statement: the answer never tells which addresses have accounts. For an enabled account it emails a one-time token (256 bits, valid 30 minutes, single use, void once the password changes by any path) as a link `<APP_LINK_BASE>/reset-password?token=…` and as text. Accounts made with Apple or Google sign-in can set a first password this way.',
    'Asking again sends a new token and leaves earlier ones valid until they expire (a late email still works); the newest password set with any of them voids the rest.',
    `Throttled, unknown addresses alike: at most ${RESET_MAX_PER_ADDRESS} requests per address per ${min(RESET_ADDRESS_WINDOW_S)}, and ${RESET_MAX_PER_IP} per client address (an IPv6 /64 counts as one) per ${min(RESET_IP_WINDOW_S)}; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(PasswordResetRequestBody) },
  responses: {
    202: jsonResponse(AcceptedSchema, 'Accepted: if the address is an account’s, the email is on its way.'),
    ...problems('too_many_attempts'),
  },
});

const confirmResetRoute = createRoute({
  method: 'post',
  path: '/v1/auth/password-reset/confirm',
  operationId: 'changePasswordWithResetToken',
  tags: ['Auth'],
  summary: 'Set a new password with a reset token',
  description: [
    'Sets `newPassword` (same rules as registration: 8 to 128 characters) and ends every session of the account: every refresh token and every access token those sessions issued is refused from its next request. The account’s email counts as verified (the link reached it). The caller is not logged in: log in with the new password.',
    tokenCodes,
    `Throttled before any password hashing: ${CONFIRM_MAX_PER_TOKEN} attempts per token per ${min(CONFIRM_TOKEN_WINDOW_S)}, ${RESET_MAX_PER_IP} per client address per ${min(RESET_IP_WINDOW_S)}; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(PasswordResetConfirmBody) },
  responses: {
    200: jsonResponse(EndedSchema, 'Password set; how many sessions were ended.'),
    ...problems('recovery_token_invalid', 'recovery_token_expired', 'recovery_token_used', 'too_many_attempts', 'busy'),
  },
});

const verifyEmailRoute = createRoute({
  method: 'post',
  path: '/v1/auth/verify-email',
  operationId: 'markEmailVerified',
  tags: ['Auth'],
  summary: 'Confirm an email address with its token',
  description: [
    'The token from a verification email (`<APP_LINK_BASE>/verify-email?token=…`; valid 24 hours, single use). For the account’s current address (sent at registration, or by POST /v1/me/email-verification) it marks the email verified. For an email change (POST /v1/me/email) it makes the new address the account’s email, verified, and the old address gets a notice; 409 `email_taken` if another account took the address meanwhile (the token stays usable should it become free). No login needed: the link may be opened on any device.',
    tokenCodes,
    `Throttled: ${VERIFY_MAX_PER_IP} attempts per client address per ${min(VERIFY_IP_WINDOW_S)}; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(VerifyEmailBody) },
  responses: {
    200: jsonResponse(EmailVerifiedSchema, 'Verified.'),
    ...problems('recovery_token_invalid', 'recovery_token_expired', 'recovery_token_used', 'email_taken', 'too_many_attempts'),
  },
});

const own = { tags: ['Auth'], security: [{ bearerAuth: [] }], middleware: requireAuth() };

const resendRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/email-verification',
  operationId: 'createEmailVerification',
  summary: 'Send the email verification again',
  description: `Emails a new verification token to the caller’s current address (earlier ones stay valid until they expire). 409 \`email_already_verified\` when it is. At most ${RESEND_MAX_PER_ACCOUNT} per account per ${min(RESEND_WINDOW_S)}; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  responses: {
    202: jsonResponse(AcceptedSchema, 'The email is on its way.'),
    ...problems('email_already_verified', 'too_many_attempts'),
  },
});

const changeEmailRoute = createRoute({
  ...own,
  method: 'post',
  path: '/v1/me/email',
  operationId: 'changeEmail',
  summary: 'Change the email (verified first)',
  description: [
    'Checks `password` (the current one), then emails a verification token to `newEmail`. The email changes only when that token is confirmed with POST /v1/auth/verify-email, within 24 hours and while the password is unchanged; until then login, password reset and Apple/Google linking use the current email. The old address is told once the change is done.',
    'Errors: 403 `current_password_incorrect` (also for an account made by Apple/Google sign-in that never set a password: set one with a password reset first), 409 `email_taken` (another account has `newEmail`), 422 `validation_failed` (`newEmail` is already the account’s).',
    `At most ${CHANGE_EMAIL_MAX_PER_WINDOW} attempts per account per ${min(CHANGE_EMAIL_WINDOW_S)}, wrong passwords included, counted before the password is hashed; then 429 \`too_many_attempts\` with \`Retry-After\`.`,
  ].join('\n\n'),
  request: { body: jsonBody(ChangeEmailBody) },
  responses: {
    202: jsonResponse(AcceptedSchema, 'The verification email is on its way to the new address.'),
    ...problems('current_password_incorrect', 'email_taken', 'too_many_attempts', 'busy'),
  },
});

const accepted = { status: 'accepted' as const };

const requestResetHandler: Handler<typeof requestResetRoute> = async (c) => {
  const deps = c.get('deps');
  await requestPasswordReset(deps, deps.clientIp(c), c.req.valid('json').email);
  return c.json(accepted, 202);
};

const confirmResetHandler: Handler<typeof confirmResetRoute> = async (c) => {
  const deps = c.get('deps');
  return c.json(await confirmPasswordReset(deps, deps.clientIp(c), c.req.valid('json')), 200);
};

const verifyEmailHandler: Handler<typeof verifyEmailRoute> = async (c) => {
  const deps = c.get('deps');
  return c.json(await verifyEmail(deps, deps.clientIp(c), c.req.valid('json').token), 200);
};

const resendHandler: Handler<typeof resendRoute> = async (c) => {
  await resendVerification(c.get('deps'), principalOf(c).userId);
  return c.json(accepted, 202);
};

const changeEmailHandler: Handler<typeof changeEmailRoute> = async (c) => {
  await requestEmailChange(c.get('deps'), principalOf(c).userId, c.req.valid('json'));
  return c.json(accepted, 202);
};

export const recoveryRoutes = createRouter()
  .openapi(requestResetRoute, requestResetHandler)
  .openapi(confirmResetRoute, confirmResetHandler)
  .openapi(verifyEmailRoute, verifyEmailHandler)
  .openapi(resendRoute, resendHandler)
  .openapi(changeEmailRoute, changeEmailHandler);
