/** Private to the catalog module: rows → the API's shapes, and constraint violations → stable codes. */
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, pgError } from '../../db/errors.js';
import type { AddOn, Service } from '../../db/schema.js';
import { ApiError } from '../../errors.js';
import type { AddOnDto, ServiceDto } from './schemas.js';

export function toServiceDto(s: Service, serviceAddOns: AddOn[]): ServiceDto {
  return {
    id: s.id,
    slug: s.slug,
    name: s.name,
    description: s.description,
    pricingModel: s.pricingModel,
    unitPrice: s.unitPrice,
    currency: s.currency,
    turnaroundHours: s.turnaroundHours,
    express:
      s.expressSurchargeBps === null || s.expressTurnaroundHours === null
        ? null
        : { surchargeBps: s.expressSurchargeBps, turnaroundHours: s.expressTurnaroundHours },
    active: s.active,
    sortOrder: s.sortOrder,
    addOns: serviceAddOns.map((a) => ({ id: a.id, slug: a.slug, name: a.name, price: a.price, active: a.active })),
  };
}

/** An add-on row → its shape in the API (AddOnSchema). */
export const addOnDto = (a: { id: string; slug: string; name: string; price: number; active: boolean }): AddOnDto => ({
  id: a.id,
  slug: a.slug,
  name: a.name,
  price: a.price,
  active: a.active,
});

/** Translates constraint violations into the API's stable codes; rethrows anything else. */
export function mapCatalogError(err: unknown): never {
  const info = pgError(err);
  if (info?.code === UNIQUE_VIOLATION) {
    throw new ApiError('slug_taken', `The slug is already in use (${info.constraint ?? 'unique constraint'}).`);
  }
  if (info?.code === FOREIGN_KEY_VIOLATION) throw new ApiError('not_found', 'No such service.');
  if (info?.code === CHECK_VIOLATION) {
    throw new ApiError('validation_failed', `The change breaks catalog rule ${info.constraint ?? ''}.`.trim(), [
      { field: 'body', message: `violates ${info.constraint ?? 'a check constraint'}` },
    ]);
  }
  throw err;
}
