import { z } from '@hono/zod-openapi';
import { dateOut, emailOut, instantOut, integerOut, text, uuidOut } from '../../http/schemas.js';
import { AppleAuthorizationCode } from '../auth/schemas.js';

/**
 * DELETE /v1/me: a fresh re-authentication, either `password` or `provider` + `idToken` + `nonce`.
 * One object (not a union), so a bad field is named in `errors` like everywhere else.
 */
export const DeleteAccountBody = z
  .object({
    password: text({ min: 1, max: 128, trim: false }).optional().openapi({ description: 'Password accounts: the current password.', example: 'correct horse battery staple' }),
    provider: z.enum(['apple', 'google']).optional().openapi({ description: 'Apple or Google accounts: the provider of a sign-in made for this deletion.' }),
    idToken: text({ min: 20, max: 8192, trim: false })
      .optional()
      .openapi({ description: 'With `provider`: an ID token from that sign-in, issued at most 10 minutes ago, for an identity linked to this account.' }),
    nonce: text({ min: 16, max: 512, trim: false }).optional().openapi({ description: 'With `provider`: the raw nonce of that sign-in, as for POST /v1/auth/oauth/{provider}.' }),
    authorizationCode: AppleAuthorizationCode.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.password !== undefined) {
      for (const k of ['provider', 'idToken', 'nonce', 'authorizationCode'] as const) {
        if (b[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'send either the password or a provider sign-in, not both' });
      }
      return;
    }
    for (const k of ['provider', 'idToken', 'nonce'] as const) {
      if (b[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'required without a password' });
    }
  })
  .openapi('DeleteAccountRequest', {
    description: 'A fresh re-authentication: `{password}`, or `{provider, idToken, nonce}` (with Apple, `authorizationCode` too) from a new sign-in with a provider linked to the account.',
  });
export type DeleteAccountInput = z.infer<typeof DeleteAccountBody>;

const iso = instantOut;
const Address = z.object({
  label: z.string().nullable(),
  line1: z.string(),
  line2: z.string().nullable(),
  city: z.string(),
  postcode: z.string(),
  instructions: z.string().nullable(),
});

/** GET /v1/me/export: version 1 of the document (src/modules/account/export.ts). */
export const AccountExportSchema = z
  .object({
    exportVersion: z.literal(1),
    exportedAt: iso(),
    account: z.object({
      id: uuidOut(),
      email: emailOut(),
      /** The address was confirmed (a verification link, or a provider that vouched for it). */
      emailVerified: z.boolean(),
      name: z.string().nullable(),
      phone: z.string().nullable(),
      locale: z.string().nullable(),
      role: z.string(),
      createdAt: iso(),
    }),
    identities: z.array(z.object({ provider: z.string(), email: emailOut().nullable(), linkedAt: iso(), lastUsedAt: iso() })),
    addresses: z.array(Address.extend({ id: uuidOut(), createdAt: iso() })),
    orders: z.array(
      z.object({
        id: uuidOut(),
        status: z.string(),
        paymentMethod: z.string(),
        express: z.boolean(),
        currency: z.string(),
        address: Address,
        notes: z.string().nullable(),
        estimatedTotal: integerOut(),
        finalTotal: integerOut().nullable(),
        /** Minor units taken off by a promo code (0 = none). */
        discountAmount: integerOut(),
        /** Minor units of account credit spent on the order (0 = none). */
        creditApplied: integerOut(),
        bagCount: integerOut().nullable(),
        /** The pickup and delivery windows booked (GET /v1/orders/{id} `pickupSlot`, `deliverySlot`). */
        pickupSlot: z.object({ startsAt: iso(), endsAt: iso() }),
        deliverySlot: z.object({ startsAt: iso(), endsAt: iso() }),
        /** The price breakdowns at order time and after the weigh-in (GET /v1/orders/{id} `estimate`, `final`). */
        estimate: z.record(z.string(), z.unknown()),
        final: z.record(z.string(), z.unknown()).nullable(),
        weighedAt: iso().nullable(),
        createdAt: iso(),
        lines: z.array(
          z.object({
            position: integerOut(),
            serviceName: z.string(),
            pricingModel: z.string(),
            unitPrice: integerOut(),
            quantity: integerOut().nullable(),
            estimatedWeightGrams: integerOut().nullable(),
            finalQuantity: integerOut().nullable(),
            finalWeightGrams: integerOut().nullable(),
            addOns: z.array(z.object({ name: z.string(), price: integerOut() })),
            estimatedTotal: integerOut(),
            finalTotal: integerOut().nullable(),
          }),
        ),
        timeline: z.array(
          z.object({
            at: iso(),
            actorRole: z.string(),
            type: z.string(),
            fromStatus: z.string().nullable(),
            toStatus: z.string().nullable(),
            note: z.string().nullable(),
            /** What the entry recorded (bag count and weights at pickup and weigh-in, a missed pickup's reason and fee); null when nothing. */
            evidence: z.record(z.string(), z.unknown()).nullable(),
          }),
        ),
        payments: z.array(
          z.object({
            kind: z.string(),
            method: z.string(),
            status: z.string(),
            currency: z.string(),
            amount: integerOut(),
            amountCaptured: integerOut(),
            amountRefunded: integerOut(),
            createdAt: iso(),
          }),
        ),
        refunds: z.array(z.object({ amount: integerOut(), reason: z.string(), status: z.string(), createdAt: iso() })),
      }),
    ),
    devices: z.array(z.object({ platform: z.string(), appVersion: z.string().nullable(), locale: z.string().nullable(), createdAt: iso() })),
    notificationPreferences: z.array(z.object({ type: z.string(), channel: z.string(), enabled: z.boolean() })),
    inbox: z.array(z.object({ type: z.string(), orderId: uuidOut().nullable(), data: z.record(z.string(), z.unknown()), createdAt: iso(), readAt: iso().nullable() })),
    sessions: z.array(z.object({ deviceLabel: z.string().nullable(), createdAt: iso(), lastUsedAt: iso(), ended: z.boolean() })),
    /** Tips the customer gave on their orders (card or cash), newest first; minor units. */
    tips: z.array(
      z.object({ orderId: uuidOut(), amount: integerOut(), currency: z.string(), percent: integerOut().nullable(), method: z.string(), status: z.string(), createdAt: iso() }),
    ),
    /** Recurring pickup schedules (GET /v1/me/recurring-pickups) with every date the job handled, newest first. */
    recurringPickups: z.array(
      z.object({
        id: uuidOut(),
        cadence: z.string(),
        anchorDate: dateOut(),
        pickupStart: z.string(),
        deliveryDaysAfter: integerOut(),
        deliveryStart: z.string(),
        addressId: uuidOut(),
        items: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'The order lines, as POST /v1/orders takes them.' }),
        express: z.boolean(),
        paymentMethod: z.string(),
        notes: z.string().nullable(),
        status: z.string(),
        skippedDates: z.array(z.string()),
        createdAt: iso(),
        occurrences: z.array(z.object({ date: dateOut(), status: z.string(), orderId: uuidOut().nullable(), reason: z.string().nullable() })),
      }),
    ),
    /** The account credit (GET /v1/me/credit): balance in minor units and every ledger entry, newest first. */
    credit: z.object({
      balance: integerOut(),
      entries: z.array(z.object({ amount: integerOut(), currency: z.string(), reason: z.string(), note: z.string().nullable(), orderId: uuidOut().nullable(), createdAt: iso() })),
    }),
  })
  .openapi('AccountExport', {
    description:
      'Everything the account holds or can see (GDPR articles 15 and 20), in one document. Money in minor units, times ISO 8601 UTC. Versioned: a field is never removed or changed within a version.',
  });
export type AccountExport = z.infer<typeof AccountExportSchema>;
