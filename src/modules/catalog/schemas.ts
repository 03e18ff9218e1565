import { z } from '@hono/zod-openapi';
import { integer, integerOut, text, uuid, uuidOut } from '../../http/schemas.js';

const Slug = text({ max: 64 })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens')
  .openapi({ example: 'wash-and-fold' });

const MinorUnits = integer({ min: 0, max: 10_000_000 }).openapi({ description: 'Integer minor units (e.g. cents).', example: 250 });

const Hours = integer({ min: 1, max: 24 * 30 });

export const ExpressSchema = z
  .object({
    surchargeBps: integer({ min: 0, max: 100_000 }).openapi({ description: 'Surcharge in basis points of the line total: 5000 = +50%.', example: 5000 }),
    turnaroundHours: Hours.openapi({ example: 24 }),
  })
  .strict()
  .openapi('Express');

export const AddOnSchema = z
  .object({
    id: uuidOut(),
    slug: z.string().openapi({ example: 'hypoallergenic' }),
    name: z.string().openapi({ example: 'Hypoallergenic detergent' }),
    price: integerOut().openapi({ description: 'Flat price per order line, minor units.', example: 150 }),
    active: z.boolean(),
  })
  .openapi('AddOn');

export const ServiceSchema = z
  .object({
    id: uuidOut(),
    slug: z.string().openapi({ example: 'wash-and-fold' }),
    name: z.string().openapi({ example: 'Wash & Fold' }),
    description: z.string(),
    pricingModel: z.enum(['per_kg', 'per_item']).openapi({
      description: '`per_kg`: unitPrice is per kilogram of weighed laundry. `per_item`: per piece.',
    }),
    unitPrice: integerOut().openapi({ description: 'Minor units per kg or per item.', example: 250 }),
    currency: z.string().openapi({ example: 'USD' }),
    turnaroundHours: integerOut().openapi({ example: 48 }),
    express: ExpressSchema.nullable().openapi({ description: 'Null when the service has no express option.' }),
    active: z.boolean(),
    sortOrder: integerOut(),
    addOns: z.array(AddOnSchema),
  })
  .openapi('Service');

export const ServiceListSchema = z.object({ data: z.array(ServiceSchema) }).openapi('ServiceList');

const NewAddOn = z
  .object({
    slug: Slug.openapi({ example: 'hypoallergenic' }),
    name: text({ min: 1, max: 100 }).openapi({ example: 'Hypoallergenic detergent' }),
    price: MinorUnits.openapi({ example: 150 }),
  })
  .strict();

export const CreateAddOnBody = NewAddOn.openapi('CreateAddOnRequest');

export const UpdateAddOnBody = z
  .object({
    name: text({ min: 1, max: 100 }),
    price: MinorUnits,
    active: z.boolean(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateAddOnRequest');

const expressFitsTurnaround = (b: { express?: { turnaroundHours: number } | null; turnaroundHours?: number }) =>
  !b.express || b.turnaroundHours === undefined || b.express.turnaroundHours < b.turnaroundHours;

export const CreateServiceBody = z
  .object({
    slug: Slug,
    name: text({ min: 1, max: 100 }).openapi({ example: 'Wash & Fold' }),
    description: text({ max: 1000 }).default(''),
    pricingModel: z.enum(['per_kg', 'per_item']),
    unitPrice: MinorUnits,
    turnaroundHours: Hours.openapi({ example: 48 }),
    express: ExpressSchema.nullable().default(null),
    sortOrder: integer({ min: 0, max: 10_000 }).default(0),
    addOns: z.array(NewAddOn).max(20).default([]),
  })
  .strict()
  .refine(expressFitsTurnaround, { message: 'express.turnaroundHours must be shorter than turnaroundHours', path: ['express'] })
  .refine((b) => new Set(b.addOns.map((a) => a.slug)).size === b.addOns.length, {
    message: 'add-on slugs must be unique',
    path: ['addOns'],
  })
  .openapi('CreateServiceRequest');

export const UpdateServiceBody = z
  .object({
    name: text({ min: 1, max: 100 }),
    description: text({ max: 1000 }),
    unitPrice: MinorUnits,
    turnaroundHours: Hours,
    express: ExpressSchema.nullable(),
    active: z.boolean().openapi({ description: 'false hides the service from the public catalog.' }),
    sortOrder: integer({ min: 0, max: 10_000 }),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .refine(expressFitsTurnaround, { message: 'express.turnaroundHours must be shorter than turnaroundHours', path: ['express'] })
  .openapi('UpdateServiceRequest');

export const IdParam = z.object({
  id: uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10' }),
});

export type CreateServiceInput = z.infer<typeof CreateServiceBody>;
export type UpdateServiceInput = z.infer<typeof UpdateServiceBody>;
export type UpdateAddOnInput = z.infer<typeof UpdateAddOnBody>;
export type ServiceDto = z.infer<typeof ServiceSchema>;
export type ServiceListDto = z.infer<typeof ServiceListSchema>;
export type AddOnDto = z.infer<typeof AddOnSchema>;

/**
 * GET /v1/services' conditional request header (RFC 9110 §13.1.2). Bounded like every request
 * field; an unmatched or malformed tag simply gets the full 200.
 */
export const ServicesConditionalHeaders = z.object({
  'if-none-match': text({ max: 2048, trim: false })
    .optional()
    .openapi({
      param: { name: 'if-none-match', in: 'header', required: false },
      description:
        'Optional. The `ETag` of a catalog the app already holds (or a comma-separated list of them, or `*`). When it matches the current ' +
        'catalog (weak comparison, RFC 9110 §13.1.2), the answer is 304 with no body: keep showing the stored copy.',
      example: '"5d41402abc4b2a76b9719d911017c592"',
    }),
});
