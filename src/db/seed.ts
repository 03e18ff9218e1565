import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** The catalog a new shop starts with. Prices are minor units of the shop's currency. */
export const DEFAULT_CATALOG = [
  {
    slug: 'wash-and-fold',
    name: 'Wash & Fold',
    description: 'Washed, tumble-dried and folded. Priced by weight after weigh-in.',
    pricingModel: 'per_kg',
    unitPrice: 250,
    turnaroundHours: 48,
    express: { surchargeBps: 5000, turnaroundHours: 24 },
    sortOrder: 10,
    addOns: [
      { slug: 'hypoallergenic', name: 'Hypoallergenic detergent', price: 150 },
      { slug: 'hang-dry', name: 'Hang-dry delicates', price: 300 },
    ],
  },
  {
    slug: 'dry-cleaning-shirt',
    name: 'Dry cleaning: shirt',
    description: 'Dry cleaned and pressed on a hanger.',
    pricingModel: 'per_item',
    unitPrice: 450,
    turnaroundHours: 72,
    express: { surchargeBps: 5000, turnaroundHours: 48 },
    sortOrder: 20,
    addOns: [{ slug: 'starch', name: 'Light starch', price: 50 }],
  },
  {
    slug: 'bedding-duvet',
    name: 'Bedding: duvet',
    description: 'One duvet or comforter, any size.',
    pricingModel: 'per_item',
    unitPrice: 1800,
    turnaroundHours: 72,
    express: null,
    sortOrder: 30,
    addOns: [],
  },
] as const;

/**
 * Inserts the default catalog where its slugs are free, in one batch. Idempotent: an
 * existing service or add-on with the same slug is left as the admin last set it.
 */
export async function seedCatalog(database: Database, currency: string): Promise<void> {
  const serviceValues = DEFAULT_CATALOG.map(
    (s) =>
      sql`(${s.slug}, ${s.name}, ${s.description}, ${s.pricingModel}::pricing_model, ${s.unitPrice}::int, ${currency}, ${s.turnaroundHours}::int, ${s.express?.surchargeBps ?? null}::int, ${s.express?.turnaroundHours ?? null}::int, ${s.sortOrder}::int)`,
  );
  const addOnValues = DEFAULT_CATALOG.flatMap((s) =>
    s.addOns.map((a) => sql`(${s.slug}, ${a.slug}, ${a.name}, ${a.price}::int)`),
  );
  await database.batch((db) => [
    db.execute(sql`
      INSERT INTO services (slug, name, description, pricing_model, unit_price, currency, turnaround_hours, express_surcharge_bps, express_turnaround_hours, sort_order)
      VALUES ${sql.join(serviceValues, sql`, `)}
      ON CONFLICT (slug) DO NOTHING`),
    db.execute(sql`
      INSERT INTO add_ons (service_id, slug, name, price)
      SELECT s.id, v.slug, v.name, v.price
      FROM (VALUES ${sql.join(addOnValues, sql`, `)}) AS v(service_slug, slug, name, price)
      JOIN services s ON s.slug = v.service_slug
      ON CONFLICT (service_id, slug) DO NOTHING`),
  ]);
}
