import { z } from '@hono/zod-openapi';
import { instantOut, text, uuidOut } from '../../http/schemas.js';
import { PostcodeBody } from '../scheduling/schemas.js';

export { IdParam } from '../scheduling/schemas.js';

const Label = text({ min: 1, max: 50 }).openapi({ example: 'Home' });
const Line = text({ min: 1, max: 200 });
const City = text({ min: 1, max: 100 }).openapi({ example: 'London' });
const Instructions = text({ min: 1, max: 500 }).openapi({ example: 'Ring twice; bags by the blue door.' });

export const AddressSchema = z
  .object({
    id: uuidOut(),
    label: z.string().nullable().openapi({ example: 'Home' }),
    line1: z.string().openapi({ example: '10 Downing Street' }),
    line2: z.string().nullable(),
    city: z.string().openapi({ example: 'London' }),
    postcode: z.string().openapi({ example: 'SW1A2AA', description: 'Normalised: upper-case, no spaces.' }),
    instructions: z.string().nullable(),
    served: z.boolean().openapi({ description: 'Whether an active zone covers the postcode now. Unserved addresses cannot be booked.' }),
    zoneId: uuidOut().nullable(),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('Address');

export const AddressListSchema = z.object({ data: z.array(AddressSchema) }).openapi('AddressList');

export const CreateAddressBody = z
  .object({
    label: Label.optional(),
    line1: Line.openapi({ example: '10 Downing Street' }),
    line2: Line.optional().openapi({ example: 'Flat 2' }),
    city: City,
    postcode: PostcodeBody,
    instructions: Instructions.optional(),
  })
  .strict()
  .openapi('CreateAddressRequest');

/** Optional text fields can be cleared with null; required ones can only be replaced. */
export const UpdateAddressBody = z
  .object({
    label: Label.nullable(),
    line1: Line,
    line2: Line.nullable(),
    city: City,
    postcode: PostcodeBody,
    instructions: Instructions.nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateAddressRequest');

export type CreateAddressInput = z.infer<typeof CreateAddressBody>;
export type UpdateAddressInput = z.infer<typeof UpdateAddressBody>;
export type AddressDto = z.infer<typeof AddressSchema>;
