/** PATCH /v1/me/recurring-pickups/{id}: change, pause, resume. Two round trips: the read, then the checked write. */
import type { Deps } from '../../deps.js';
import type { ScheduleDto, UpdateScheduleInput } from './schemas.js';
import { readSchedule, saveSchedule, type Fields } from './shared.js';

/** PATCH: the fields sent replace the schedule's; every rule is checked again on the result. */
export async function updateSchedule(deps: Deps, userId: string, id: string, patch: UpdateScheduleInput): Promise<ScheduleDto> {
  const current = await readSchedule(deps, userId, id);
  const { status, ...rest } = patch;
  const fields: Fields = {
    cadence: current.cadence,
    anchorDate: current.anchor_date,
    pickupStart: current.pickup_start,
    deliveryDaysAfter: current.delivery_days_after,
    deliveryStart: current.delivery_start,
    addressId: current.address_id,
    items: current.items as Fields['items'],
    express: current.express,
    paymentMethod: current.payment_method,
    notes: current.notes,
    ...rest,
  };
  return saveSchedule(deps, userId, fields, { checkAnchor: patch.anchorDate !== undefined, id, status: status ?? current.status, updatedAt: current.updated_at });
}
