/**
 * Account emails (issue 18): password reset, email verification, the notice of an email change.
 * Outbox rows of ACCOUNT_EMAIL_TYPES carry their own address (`notification_outbox.recipient`),
 * go out by email only and are never silenced (./dispatch-fanout.ts fanOut), and never show in the
 * in-app inbox (src/modules/notifications/inbox.ts). The one-time token waits in the row's
 * `data.sealed`, sealed (src/auth/seal.ts); it is opened here, at render time, and the dispatcher
 * removes it once the delivery is final (./dispatch-claims.ts recordResults).
 *
 * English or Spanish by users.locale (./templates.ts languageOf). Plain text, as every email here.
 * The link is `<APP_LINK_BASE>/reset-password?token=…` or `/verify-email?token=…` (the app opens
 * it as a universal/app link), and the token is also given as text, for typing or pasting into the app.
 */
import { open } from '../auth/seal.js';
import type { AccountEmailType } from '../db/schema-notification-kinds.js';
import { languageOf } from './templates.js';
import type { RenderedMessage } from './types.js';

/** What opening and linking need: the sealing secret (JWT_SECRET) and APP_LINK_BASE. */
export interface AccountMailDeps {
  secret: string;
  appLinkBase: string;
}

export interface AccountMailInput {
  type: AccountEmailType;
  recipient: string;
  deliveryId: number | string;
  locale: string | null;
  /** notification_outbox.data: `{ sealed }` (reset, verification) or `{ newEmail }` (email changed). */
  data: Record<string, unknown>;
}

/** `ada@example.com` → `a***@example.com`: enough for the owner to recognise, little for anyone else. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 1 ? '***' : `${email[0]}***${email.slice(at)}`;
}

const PATHS: Record<'password_reset' | 'email_verification', string> = {
  password_reset: 'reset-password',
  email_verification: 'verify-email',
};

/**
 * Renders an account email. Throws when the token cannot be opened (scrubbed already, another
 * JWT_SECRET, tampered): the dispatcher records the delivery `failed` (a render error), never
 * sends a link that cannot work.
 */
export async function renderAccountEmail(input: AccountMailInput, deps: AccountMailDeps): Promise<RenderedMessage> {
  const es = languageOf(input.locale) === 'es';
  const base = { channel: 'email' as const, type: input.type, recipient: input.recipient, idempotencyKey: String(input.deliveryId), data: {} };
  const signOff = es ? '\n\nGracias,\nEl equipo de Laundry' : '\n\nThanks,\nThe Laundry team';
  if (input.type === 'email_changed') {
    const to = typeof input.data.newEmail === 'string' ? maskEmail(input.data.newEmail) : '';
    return es
      ? { ...base, title: 'Tu email ha cambiado', body: `El email de tu cuenta de Laundry es ahora ${to}. Si no fuiste tú, restablece tu contraseña y escríbenos.${signOff}` }
      : { ...base, title: 'Your email was changed', body: `Your Laundry account’s email is now ${to}. If this was not you, reset your password and contact us.${signOff}` };
  }
  const sealed = typeof input.data.sealed === 'string' ? input.data.sealed : undefined;
  const token = sealed === undefined ? undefined : await open(deps.secret, input.type, sealed);
  if (token === undefined) throw new Error(`the ${input.type} token cannot be opened (scrubbed, or sealed under another secret)`);
  const link = `${deps.appLinkBase}/${PATHS[input.type]}?token=${encodeURIComponent(token)}`;
  if (input.type === 'password_reset') {
    return es
      ? {
          ...base,
          title: 'Restablece tu contraseña',
          body: `Para elegir una contraseña nueva, abre este enlace en tu teléfono (caduca en 30 minutos y sirve una vez):\n\n${link}\n\nO pega este código en la app:\n${token}\n\nSi no lo pediste, ignora este email: tu contraseña no cambia.${signOff}`,
        }
      : {
          ...base,
          title: 'Reset your password',
          body: `To choose a new password, open this link on your phone (it expires in 30 minutes and works once):\n\n${link}\n\nOr paste this code into the app:\n${token}\n\nIf you did not ask for this, ignore this email: your password stays as it is.${signOff}`,
        };
  }
  return es
    ? {
        ...base,
        title: 'Confirma tu email',
        body: `Confirma que esta dirección es tuya abriendo este enlace (caduca en 24 horas):\n\n${link}\n\nO pega este código en la app:\n${token}${signOff}`,
      }
    : {
        ...base,
        title: 'Confirm your email',
        body: `Confirm this address is yours by opening this link (it expires in 24 hours):\n\n${link}\n\nOr paste this code into the app:\n${token}${signOff}`,
      };
}
