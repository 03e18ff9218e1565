import { asc, eq } from 'drizzle-orm';
import { runQuery } from '../../db/client.js';
import { addOns, services, type AddOn, type Service } from '../../db/schema.js';
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, pgError } from '../../db/errors.js';
import type { Deps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import type { CreateServiceInput, ServiceDto, UpdateAddOnInput, UpdateServiceInput } from './schemas.js';

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

/** One statement: drizzle's relational query aggregates the add-ons in SQL. */
export async function listServices(deps: Deps, opts: { includeInactive: boolean }): Promise<ServiceDto[]> {
  const rows = await runQuery(deps.database, (db) => db.query.services.findMany({
    where: opts.includeInactive ? undefined : eq(services.active, true),
    orderBy: [asc(services.sortOrder), asc(services.name)],
    with: {
      addOns: {
        where: opts.includeInactive ? undefined : eq(addOns.active, true),
        orderBy: [asc(addOns.name)],
      },
    },
  }));
  return rows.map((r) => toServiceDto(r, r.addOns));
}

/** Translates constraint violations into the API's stable codes; rethrows anything else. */
function mapCatalogError(err: unknown): never {
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

/** The service and its add-ons in one batch: one round trip, all or nothing. */
export async function createService(deps: Deps, input: CreateServiceInput): Promise<ServiceDto> {
  const id = crypto.randomUUID();
  const now = deps.clock.now();
  const serviceRow = {
    id,
    slug: input.slug,
    name: input.name,
    description: input.description,
    pricingModel: input.pricingModel,
    unitPrice: input.unitPrice,
    currency: deps.config.currency,
    turnaroundHours: input.turnaroundHours,
    expressSurchargeBps: input.express?.surchargeBps ?? null,
    expressTurnaroundHours: input.express?.turnaroundHours ?? null,
    sortOrder: input.sortOrder,
    createdAt: now,
    updatedAt: now,
  };
  const addOnRows = input.addOns.map((a) => ({ ...a, serviceId: id, createdAt: now, updatedAt: now }));
  try {
    const [created, createdAddOns] = await deps.database.batch((db) => [
      db.insert(services).values(serviceRow).returning(),
      addOnRows.length > 0
        ? db.insert(addOns).values(addOnRows).returning()
        : db.select().from(addOns).where(eq(addOns.serviceId, id)),
    ]);
    return toServiceDto(created[0]!, createdAddOns);
  } catch (err) {
    mapCatalogError(err);
  }
}

export async function updateService(deps: Deps, id: string, input: UpdateServiceInput): Promise<ServiceDto> {
  const { express, ...fields } = input;
  const changes = {
    ...fields,
    ...(express === undefined
      ? {}
      : { expressSurchargeBps: express?.surchargeBps ?? null, expressTurnaroundHours: express?.turnaroundHours ?? null }),
    updatedAt: deps.clock.now(),
  };
  try {
    const [updated, serviceAddOns] = await deps.database.batch((db) => [
      db.update(services).set(changes).where(eq(services.id, id)).returning(),
      db.select().from(addOns).where(eq(addOns.serviceId, id)).orderBy(asc(addOns.name)),
    ]);
    if (!updated[0]) throw new ApiError('not_found', 'No such service.');
    return toServiceDto(updated[0], serviceAddOns);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    mapCatalogError(err);
  }
}

export async function createAddOn(
  deps: Deps,
  serviceId: string,
  input: { slug: string; name: string; price: number },
): Promise<AddOn> {
  const now = deps.clock.now();
  try {
    const [row] = await runQuery(deps.database, (db) => db
      .insert(addOns)
      .values({ ...input, serviceId, createdAt: now, updatedAt: now })
      .returning());
    return row!;
  } catch (err) {
    mapCatalogError(err);
  }
}

export async function updateAddOn(deps: Deps, id: string, input: UpdateAddOnInput): Promise<AddOn> {
  const [row] = await runQuery(deps.database, (db) => db
    .update(addOns)
    .set({ ...input, updatedAt: deps.clock.now() })
    .where(eq(addOns.id, id))
    .returning());
  if (!row) throw new ApiError('not_found', 'No such add-on.');
  return row;
}
