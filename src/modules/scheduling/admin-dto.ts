/** Rows of zones and slots → the admin API's shapes (src/modules/scheduling/admin-schemas.ts). */
import type { zones } from '../../db/schema.js';
import type { SlotKind } from '../../domain/slots.js';
import type { AdminSlotDto, ZoneDto } from './admin-schemas.js';
import { cutoffAtOf, isoOf } from './sql.js';

type ZoneRow = typeof zones.$inferSelect;

export function toZoneDto(z: ZoneRow): ZoneDto {
  return {
    id: z.id,
    name: z.name,
    postcodePrefixes: z.postcodePrefixes,
    timeZone: z.timeZone,
    active: z.active,
    deliveryFee: z.deliveryFee,
    minimumOrder: z.minimumOrder,
    freeDeliveryFrom: z.freeDeliveryFrom,
    createdAt: isoOf(z.createdAt),
    updatedAt: isoOf(z.updatedAt),
  };
}

export interface SlotLike {
  id: string;
  zoneId: string;
  kind: SlotKind;
  startsAt: Date | string;
  endsAt: Date | string;
  capacity: number;
  reserved: number;
  cutoffMinutes: number;
  closed: boolean;
}

export function toAdminSlot(s: SlotLike): AdminSlotDto {
  return {
    id: s.id,
    zoneId: s.zoneId,
    kind: s.kind,
    startsAt: isoOf(s.startsAt),
    endsAt: isoOf(s.endsAt),
    capacity: s.capacity,
    reserved: s.reserved,
    remaining: s.capacity - s.reserved,
    cutoffMinutes: s.cutoffMinutes,
    cutoffAt: cutoffAtOf(s.startsAt, s.cutoffMinutes),
    closed: s.closed,
  };
}
