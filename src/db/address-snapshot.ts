import { z } from 'zod';

/**
 * The postal fields of an address: what a saved address holds (src/modules/addresses) and what an
 * order keeps as it was when placed (`orders.address`, shown as `Order.address`). One schema, so
 * the row check and the response schema cannot drift apart.
 */
export const AddressSnapshotSchema = z.object({
  label: z.string().nullable(),
  line1: z.string(),
  line2: z.string().nullable(),
  city: z.string(),
  postcode: z.string(),
  instructions: z.string().nullable(),
});
export type AddressSnapshot = z.infer<typeof AddressSnapshotSchema>;
