/**
 * stripe-stand-in, part: the amount rules Stripe applies to every PaymentIntent amount
 * (create, update, confirm's `amount_to_confirm`, capture's `amount_to_capture`).
 */
import { currencyRules } from '../../src/domain/currency.js';
import { invalidParam, type Params } from './util.js';

/**
 * What Stripe checks on an amount (https://docs.stripe.com/currencies): the currency's minimum
 * charge (`amount_too_small`), multiples of 10 in three-decimal currencies and of 100 in ISK,
 * and at most eight digits. Minimums and steps come from the app's own table,
 * src/domain/currency.ts, which cites Stripe's; a currency without a documented minimum
 * (Stripe converts it to the settlement currency) is held to 1 minor unit here.
 */
export function validAmount(p: Params, name: string, currency: string, value = p.int(name)): number {
  if (value === null) throw invalidParam(name, `Missing required param: ${name}.`, 'parameter_missing');
  const rules = currencyRules(currency);
  const min = rules?.minimumCharge ?? 1;
  if (value < min) throw invalidParam(name, `Amount must be at least ${min} ${currency} minor units`, 'amount_too_small');
  if (value > 99_999_999) throw invalidParam(name, 'Amount must be no more than 99999999', 'amount_too_large');
  if (rules?.threeDecimal && value % 10 !== 0) {
    const message = `Invalid amount. Currency ${currency} is a three-decimal currency and charged amounts must be evenly divisible by 10 (round to the nearest ten). See https://docs.stripe.com/currencies#three-decimal.`;
    throw invalidParam(name, message, 'invalid_charge_amount');
  }
  if (rules && rules.step === 100 && value % 100 !== 0) {
    const message = `Invalid amount. Currency ${currency} has become effectively zero-decimal and charged amounts must be evenly divisible by 100. See https://stripe.com/docs/currencies#special-cases for more information.`;
    throw invalidParam(name, message, 'invalid_charge_amount_no_decimal_compatible');
  }
  return value;
}
