import type { Knex } from 'knex';
import type { Party } from '../documents/billing-document';
import type { Mailer } from '../notifications/mailer';
import type { PaymentProvider } from '../payments/port';
import type { ProviderRecords } from '../payments/provider-records';
import { createChargingSessionActivities } from './charging-session';
import { createExemptionActivities } from './exemption';
import { createInvoiceActivities } from './invoice';
import { createMonthlyRunActivities } from './monthly-run';
import { createPayoutActivities } from './payout';
import { createPreAuthorizationActivities } from './pre-authorization';
import { createReconciliationActivities } from './reconciliation';
import { createSessionPaymentActivities } from './session-payments';
import { createWalletActivities } from './wallet';
import { createWebhookActivities, type WebhookDeliveryConfig } from './webhook-delivery';

export interface ActivityDeps {
  db: Knex;
  payments: PaymentProvider;
  mailer: Mailer;
  seller: Party;
  /** How long after a month ends its invoice waits for late sessions. */
  invoiceGraceMs?: number;
  /** The provider's own records, for reconciliation; without them it fails with ProviderRecordsMissing. */
  records?: ProviderRecords;
  /** Webhook retry and disable timings; the defaults retry for 3 days. */
  webhooks?: Partial<WebhookDeliveryConfig>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createChargingSessionActivities(deps),
    ...createExemptionActivities(deps),
    ...createInvoiceActivities(deps),
    ...createMonthlyRunActivities(deps),
    ...createPayoutActivities(deps),
    ...createReconciliationActivities(deps),
    ...createPreAuthorizationActivities(deps),
    ...createSessionPaymentActivities(deps),
    ...createWalletActivities(deps),
    ...createWebhookActivities(deps),
  };
}
