/** A `notification_deliveries` row as the notification tests read it back (enums as text, times as text). */
export interface DeliveryRow {
  id: number;
  channel: string;
  recipient: string;
  state: string;
  attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
  next_attempt_at: string;
  locked_until?: string | null;
}
