import { z } from '@hono/zod-openapi';
import { isReservedPrefix, SYNTHETIC_POSTCODE_AREA } from '../../domain/postcodes.js';
import { parseWallTime } from '../../domain/zoned-time.js';
import { dateOut, instantOut, integer, integerOut, text, uuidOut } from '../../http/schemas.js';
import {
  Capacity,
  CutoffMinutes,
  DateTime,
  IdParam,
  LocalDate,
  MinorUnits,
  PostcodePrefix,
  SlotKind,
  SlotsQuery,
  TimeZoneName,
  WallTime,
} from '../scheduling/schemas.js';

/* Request and response shapes of the admin endpoints for zones, slots and closures. */

// ---- admin: zones ------------------------------------------------------------------------------

export const ZoneSchema = z
  .object({
    id: uuidOut(),
    name: z.string().openapi({ example: 'Central London' }),
    postcodePrefixes: z.array(z.string()).openapi({ example: ['SW1', 'W1'] }),
    timeZone: z.string().openapi({ example: 'Europe/London' }),
    active: z.boolean(),
    synthetic: z.boolean().openapi({
      description:
        'A release-probe zone: it serves the synthetic customer only, and no one else sees it. Read-only here; `npm run cli -- synthetic-setup` makes it (docs/runbook.md, "Synthetic customer (release probes)").',
      example: false,
    }),
    deliveryFee: integerOut().openapi({ example: 499 }),
    minimumOrder: integerOut().openapi({ example: 1500 }),
    freeDeliveryFrom: integerOut().nullable().openapi({ example: 5000 }),
    missedPickupFee: integerOut().openapi({ description: 'Charged when staff mark a pickup missed (minor units; 0: nothing).', example: 500 }),
    createdAt: instantOut(),
    updatedAt: instantOut(),
  })
  .openapi('Zone');

export const ZoneListSchema = z.object({ data: z.array(ZoneSchema) }).openapi('ZoneList');

const zoneFields = {
  name: text({ min: 1, max: 100 }).openapi({ example: 'Central London' }),
  postcodePrefixes: z
    .array(PostcodePrefix.refine((p) => !isReservedPrefix(p), `the area ${SYNTHETIC_POSTCODE_AREA} is reserved for the synthetic release-probe zone`))
    .min(1)
    .max(50)
    .refine((a) => new Set(a).size === a.length, 'prefixes must be unique')
    .openapi({
      description:
        `UK areas, districts or sub-districts, or digit prefixes. A postcode goes to the active zone with its most specific covering prefix (\`SW1A\` beats \`SW1\` beats \`SW\`). The area \`${SYNTHETIC_POSTCODE_AREA}\` (no real UK postcode starts with Q) is reserved for the synthetic release-probe zone and refused.`,
      example: ['SW1', 'W1'],
    }),
  timeZone: TimeZoneName,
  deliveryFee: MinorUnits,
  minimumOrder: MinorUnits.openapi({ example: 1500 }),
  freeDeliveryFrom: MinorUnits.nullable().openapi({ description: 'Null: delivery is never free.', example: 5000 }),
  missedPickupFee: MinorUnits.openapi({
    description:
      'Charged when staff mark a pickup missed (`pickup_missed`): minor units, 0 (the default) charges nothing. Otherwise at least Stripe’s minimum charge in the shop’s currency and a whole multiple of its step (422 `validation_failed`), so it can always be collected.',
    example: 500,
  }),
  active: z.boolean(),
};

export const CreateZoneBody = z
  .object({ ...zoneFields, active: zoneFields.active.default(true), missedPickupFee: zoneFields.missedPickupFee.default(0) })
  .strict()
  .openapi('CreateZoneRequest');

export const UpdateZoneBody = z
  .object(zoneFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateZoneRequest');

// ---- admin: slots ------------------------------------------------------------------------------

export const AdminSlotSchema = z
  .object({
    id: uuidOut(),
    zoneId: uuidOut(),
    kind: SlotKind,
    startsAt: instantOut().openapi({ example: '2026-03-27T09:00:00.000Z' }),
    endsAt: instantOut().openapi({ example: '2026-03-27T11:00:00.000Z' }),
    capacity: integerOut().openapi({ example: 8 }),
    reserved: integerOut().openapi({ example: 5 }),
    remaining: integerOut().openapi({ example: 3 }),
    cutoffMinutes: integerOut().openapi({ example: 120 }),
    cutoffAt: instantOut().openapi({ example: '2026-03-27T07:00:00.000Z' }),
    closed: z.boolean(),
  })
  .openapi('Slot');

const MAX_WINDOW_MS = 24 * 60 * 60_000;

export const CreateSlotBody = z
  .object({
    kind: SlotKind,
    startsAt: DateTime,
    endsAt: DateTime.openapi({ example: '2026-03-27T11:00:00Z' }),
    capacity: Capacity,
    cutoffMinutes: CutoffMinutes.default(120),
  })
  .strict()
  .refine((b) => new Date(b.endsAt) > new Date(b.startsAt), { message: 'must be after startsAt', path: ['endsAt'] })
  .refine((b) => new Date(b.endsAt).getTime() - new Date(b.startsAt).getTime() <= MAX_WINDOW_MS, {
    message: 'a window may last at most 24 hours',
    path: ['endsAt'],
  })
  .openapi('CreateSlotRequest');

const TemplateWindow = z
  .object({
    weekday: integer({ min: 0, max: 6 }).openapi({ description: '0 = Sunday … 6 = Saturday.', example: 1 }),
    start: WallTime,
    end: WallTime.openapi({ example: '11:00' }),
    kind: SlotKind,
    capacity: Capacity,
  })
  .strict()
  .refine((w) => (parseWallTime(w.end) ?? 0) > (parseWallTime(w.start) ?? 0), { message: 'must be after start', path: ['end'] });

type Window = z.infer<typeof TemplateWindow>;

/** Two windows of one kind on one weekday may not overlap: the same hour would be offered twice. */
function overlapping(windows: Window[]): number | undefined {
  for (let i = 0; i < windows.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [windows[i]!, windows[j]!];
      if (a.weekday !== b.weekday || a.kind !== b.kind) continue;
      if (parseWallTime(a.start)! < parseWallTime(b.end)! && parseWallTime(b.start)! < parseWallTime(a.end)!) return i;
    }
  }
  return undefined;
}

export const GenerateSlotsBody = z
  .object({
    cutoffMinutes: CutoffMinutes,
    windows: z.array(TemplateWindow).min(1).max(50),
    from: LocalDate.openapi({ example: '2026-03-27' }),
    to: LocalDate.openapi({ example: '2026-04-30', description: 'Inclusive; at most 62 days after from.' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    const index = overlapping(b.windows);
    if (index !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['windows', index], message: 'overlaps another window of the same kind on the same weekday' });
    }
    if (b.to < b.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  })
  .openapi('GenerateSlotsRequest');

const WindowOnDate = {
  date: dateOut().openapi({ description: "The zone's local date.", example: '2026-03-29' }),
  kind: SlotKind,
  start: z.string().openapi({ example: '01:00' }),
  end: z.string().openapi({ example: '02:00' }),
};

export const GeneratedSlotsSchema = z
  .object({
    created: integerOut().openapi({ example: 12 }),
    skipped: integerOut().openapi({ description: 'Windows that already had a slot (same zone, kind, start).', example: 0 }),
    data: z.array(AdminSlotSchema),
    skippedWindows: z
      .array(z.object({ ...WindowOnDate, reason: z.enum(['nonexistent_local_time']) }).openapi('SkippedWindow'))
      .openapi({ description: 'Windows not created because the clock skips all of them that day (spring-forward gap).' }),
    adjustedWindows: z
      .array(
        z
          .object({
            ...WindowOnDate,
            reason: z.enum(['clipped_by_gap', 'repeated_hour']).openapi({
              description:
                '`clipped_by_gap`: an end fell in a spring-forward gap and was moved to the jump, so the slot is shorter. `repeated_hour`: an end fell in the hour a fall-back change repeats and its first occurrence was taken.',
            }),
            startsAt: instantOut().openapi({ example: '2026-03-29T01:00:00.000Z' }),
            endsAt: instantOut().openapi({ example: '2026-03-29T02:00:00.000Z' }),
          })
          .openapi('AdjustedWindow'),
      )
      .openapi({ description: 'Windows created with an end moved by a clock change (also for windows that already existed).' }),
  })
  .openapi('GeneratedSlots');

export const UpdateSlotBody = z
  .object({ capacity: Capacity, cutoffMinutes: CutoffMinutes, closed: z.boolean() })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateSlotRequest');

export const AdminSlotsQuery = z.object({
  from: SlotsQuery.shape.from,
  to: SlotsQuery.shape.to,
  kind: SlotKind.optional().openapi({ param: { name: 'kind', in: 'query' } }),
});

export const AdminSlotListSchema = z
  .object({ zone: ZoneSchema, data: z.array(AdminSlotSchema) })
  .openapi('ZoneSlots');

// ---- admin: closures ---------------------------------------------------------------------------

export const CreateClosureBody = z
  .object({ date: LocalDate, reason: text({ min: 1, max: 200 }).optional().openapi({ example: 'Bank holiday' }) })
  .strict()
  .openapi('CreateClosureRequest');

export const ClosureSchema = z
  .object({
    zoneId: uuidOut(),
    date: dateOut().openapi({ example: '2026-12-25' }),
    reason: z.string().nullable(),
    createdAt: instantOut(),
    slotsClosed: integerOut().openapi({ description: 'Slots on that local date now closed.', example: 4 }),
  })
  .openapi('Closure');

export const ClosureParams = z.object({
  id: IdParam.shape.id,
  date: LocalDate.openapi({ param: { name: 'date', in: 'path' } }),
});

export type CreateZoneInput = z.infer<typeof CreateZoneBody>;
export type UpdateZoneInput = z.infer<typeof UpdateZoneBody>;
export type CreateSlotInput = z.infer<typeof CreateSlotBody>;
export type GenerateSlotsInput = z.infer<typeof GenerateSlotsBody>;
export type UpdateSlotInput = z.infer<typeof UpdateSlotBody>;
export type ZoneDto = z.infer<typeof ZoneSchema>;
export type AdminSlotDto = z.infer<typeof AdminSlotSchema>;
