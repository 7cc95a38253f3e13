import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { InvoiceActivities } from '../../activities/invoice';
import { BILLING_STATUS } from '../search-attributes';
import type { InvoiceCloseInput, InvoiceCloseResult } from './messages';

const records = proxyActivities<InvoiceActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Money moves: the authorization and capture carry keys derived from the invoice, so retries charge once.
const money = proxyActivities<InvoiceActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['PaymentRefused'],
  },
});

/**
 * `invoice-close:<org_id>:<yyyy-mm>`: waits out the grace time for late sessions, issues the period's invoice
 * (once, however often it runs), e-mails it to the billing contact and charges the saved payment method.
 */
export async function invoiceClose(input: InvoiceCloseInput): Promise<InvoiceCloseResult> {
  upsertSearchAttributes([{ key: BILLING_STATUS, value: 'waiting' }]);
  const wait = Date.parse(input.notBefore) - Date.now();
  if (wait > 0) await sleep(wait);
  const issued = await records.issueInvoiceForPeriod({
    organizationId: input.organizationId,
    period: input.period,
  });
  upsertSearchAttributes([{ key: BILLING_STATUS, value: issued.status }]);
  await records.emailInvoice(issued.invoiceId);
  let status = issued.status;
  if (issued.chargeable && (await money.chargeInvoice(issued.invoiceId)) === 'paid') {
    status = 'paid';
    upsertSearchAttributes([{ key: BILLING_STATUS, value: status }]);
  }
  return { invoiceId: issued.invoiceId, number: issued.number, status };
}
