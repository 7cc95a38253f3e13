import type { Knex } from 'knex';
import type { PaymentProvider } from '../payments/port';
import { createChargingSessionActivities } from './charging-session';

export function createActivities(deps: { db: Knex; payments: PaymentProvider }) {
  return { ...createChargingSessionActivities(deps) };
}
