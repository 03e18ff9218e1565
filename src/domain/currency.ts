/**
 * Stripe's currency rules, as data: one row per currency we accept, checked against Stripe's
 * "Supported currencies" page (https://docs.stripe.com/currencies, read 2026-11-29):
 *
 * - Amounts are integers in the currency's minor unit
 *   (https://docs.stripe.com/currencies#minor-units).
 * - Zero-decimal currencies take whole units: ¥500 is `500`
 *   (https://docs.stripe.com/currencies#zero-decimal).
 * - Three-decimal currencies (BHD, JOD, KWD, OMR, TND) take thousandths, but the last digit
 *   must be 0: "Your integration must round amounts to the nearest ten. For example, 5.124 KWD
 *   must be rounded to 5120 or 5130" (https://docs.stripe.com/currencies#three-decimal).
 * - ISK stays two-decimal in the API but is effectively zero-decimal: amounts must be evenly
 *   divisible by 100 (https://docs.stripe.com/currencies#special-cases,
 *   https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds).
 * - Minimum charge amounts are listed per settlement currency
 *   (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts); a smaller charge
 *   is refused with `amount_too_small`. A currency without a row there has no fixed minimum
 *   here (`minimumCharge: null`): Stripe converts it to the account's settlement currency at
 *   the day's rate, which a table cannot know, so we let Stripe answer.
 *
 * Left out on purpose: currencies whose rules we have not checked (UGX, HUF payouts, TWD…).
 * The configuration refuses a currency this table does not know, so adding one is a reviewed
 * change here, with its source.
 */

export interface CurrencyRules {
  /** ISO 4217, upper case. Stripe wants it lower case on the wire. */
  code: string;
  /** Digits after the decimal point in the API's amounts: 10^exponent minor units make one major unit. */
  exponent: 0 | 2 | 3;
  /** Stripe's minimum charge in minor units, or null when Stripe documents no fixed figure. */
  minimumCharge: number | null;
  zeroDecimal: boolean;
  threeDecimal: boolean;
  /** Every amount sent to Stripe must be a multiple of this (10 for three-decimal, 100 for ISK, else 1). */
  step: number;
}

type Row = Omit<CurrencyRules, 'code'>;

const two = (minimumCharge: number | null): Row => ({ exponent: 2, minimumCharge, zeroDecimal: false, threeDecimal: false, step: 1 });
const zero = (minimumCharge: number | null): Row => ({ exponent: 0, minimumCharge, zeroDecimal: true, threeDecimal: false, step: 1 });
const three: Row = { exponent: 3, minimumCharge: null, zeroDecimal: false, threeDecimal: true, step: 10 };

const TABLE: Readonly<Record<string, Row>> = {
  // Documented minimum charge amounts (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
  USD: two(50),
  AED: two(200),
  AUD: two(50),
  BGN: two(100),
  BRL: two(50),
  CAD: two(50),
  CHF: two(50),
  CZK: two(1500),
  DKK: two(250),
  EUR: two(50),
  GBP: two(30),
  HKD: two(400),
  HUF: two(17500),
  INR: two(50),
  JPY: zero(50),
  MXN: two(1000),
  MYR: two(200),
  NOK: two(300),
  NZD: two(50),
  PLN: two(200),
  RON: two(200),
  SEK: two(300),
  SGD: two(50),
  THB: two(1000),
  // Zero-decimal currencies (docs.stripe.com/currencies#zero-decimal); JPY is above.
  BIF: zero(null),
  CLP: zero(null),
  DJF: zero(null),
  GNF: zero(null),
  KMF: zero(null),
  KRW: zero(null),
  MGA: zero(null),
  PYG: zero(null),
  RWF: zero(null),
  VND: zero(null),
  VUV: zero(null),
  XAF: zero(null),
  XOF: zero(null),
  XPF: zero(null),
  // Three-decimal currencies (docs.stripe.com/currencies#three-decimal).
  BHD: three,
  JOD: three,
  KWD: three,
  OMR: three,
  TND: three,
  // Special case: two-decimal on the wire, whole krónur only.
  ISK: { ...two(null), step: 100 },
};

/** Every currency code the table knows, sorted. */
export const SUPPORTED_CURRENCIES: readonly string[] = Object.keys(TABLE).sort();

/**
 * The rules for an ISO 4217 code (any case), or undefined when the table does not know it.
 * Source: https://docs.stripe.com/currencies
 */
export function currencyRules(code: string): CurrencyRules | undefined {
  const upper = code.toUpperCase();
  const row = Object.hasOwn(TABLE, upper) ? TABLE[upper] : undefined;
  return row ? { code: upper, ...row } : undefined;
}

function requireRules(code: string): CurrencyRules {
  const rules = currencyRules(code);
  if (!rules) throw new RangeError(`Unsupported currency ${code}: not in src/domain/currency.ts`);
  return rules;
}

/**
 * Stripe's minimum charge in minor units (USD 50 = $0.50, JPY 50 = ¥50), or null when Stripe
 * documents none for the currency (it then converts to the settlement currency's minimum) or
 * the table does not know the currency (an order stored before the table existed).
 * Source: https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
 */
export function minimumCharge(code: string): number | null {
  return currencyRules(code)?.minimumCharge ?? null;
}

/**
 * The largest valid Stripe amount not above `amount`: a multiple of the currency's step
 * (10 in three-decimal currencies, 100 in ISK). Stripe lets us round either way ("5.124 KWD
 * must be rounded to 5120 or 5130"); we round **down**, in the customer's favour, so the
 * customer is never charged more than the price we computed, by at most 9 thousandths.
 * Source: https://docs.stripe.com/currencies#three-decimal
 */
export function toChargeableAmount(code: string, amount: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`Amount must be a non-negative integer, got ${amount}`);
  const { step } = requireRules(code);
  return amount - (amount % step);
}

/**
 * `toChargeableAmount` where the currency's rules are known; `amount` unchanged for a currency
 * without rules (no step known: every integer amount is taken as it is).
 */
export function chargeableOrAsIs(code: string, amount: number): number {
  return currencyRules(code) ? toChargeableAmount(code, amount) : amount;
}

/** True when `amount` is a whole number of the currency's step (what Stripe accepts). */
export function isChargeableAmount(code: string, amount: number): boolean {
  return Number.isSafeInteger(amount) && amount % requireRules(code).step === 0;
}

/**
 * True when Stripe would refuse a charge of `amount` as `amount_too_small`. False when no
 * minimum is known (see minimumCharge): then only Stripe can say, and the caller must handle
 * its `amount_too_small` answer.
 * Source: https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
 */
export function isBelowMinimum(code: string, amount: number): boolean {
  const minimum = minimumCharge(code);
  return minimum !== null && amount < minimum;
}
