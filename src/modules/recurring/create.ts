/** POST /v1/me/recurring-pickups: one checked statement (./shared.ts, saveSchedule). */
import type { Deps } from '../../deps.js';
import type { CreateScheduleInput, ScheduleDto } from './schemas.js';
import { saveSchedule } from './shared.js';

export async function createSchedule(deps: Deps, userId: string, input: CreateScheduleInput): Promise<ScheduleDto> {
  return saveSchedule(deps, userId, { ...input, notes: input.notes ?? null }, { checkAnchor: true });
}
