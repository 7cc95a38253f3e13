import type { Knex } from 'knex';
import type { Party } from '../documents/billing-document';
import type { Mailer } from '../notifications/mailer';
import type { PaymentProvider } from '../payments/port';
import { createChargingSessionActivities } from './charging-session';
import { createExemptionActivities } from './exemption';
import { createInvoiceActivities } from './invoice';
import { createMonthlyRunActivities } from './monthly-run';
import { createPayoutActivities } from './payout';

export interface ActivityDeps {
  db: Knex;
  payments: PaymentProvider;
  mailer: Mailer;
  seller: Party;
  /** How long after a month ends its invoice waits for late sessions. */
  invoiceGraceMs?: number;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createChargingSessionActivities(deps),
    ...createExemptionActivities(deps),
    ...createInvoiceActivities(deps),
    ...createMonthlyRunActivities(deps),
    ...createPayoutActivities(deps),
  };
}
