import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes ops filter on in the Temporal UI; registered by bin/start and docker-compose.
export const CHARGE_POINT_ID = defineSearchAttributeKey('ChargePointId', SearchAttributeType.KEYWORD);
export const ORGANIZATION_ID = defineSearchAttributeKey('OrganizationId', SearchAttributeType.KEYWORD);
export const ID_TAG = defineSearchAttributeKey('IdTag', SearchAttributeType.KEYWORD);
export const SESSION_STATUS = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);

// The long-running billing workflows (exemption, invoice-close, allowance-reset, payout) share these.
export const BILLING_KIND = defineSearchAttributeKey('BillingKind', SearchAttributeType.KEYWORD);
export const BILLING_STATUS = defineSearchAttributeKey('BillingStatus', SearchAttributeType.KEYWORD);
/** yyyy-mm, in the organization's time zone. */
export const BILLING_PERIOD = defineSearchAttributeKey('BillingPeriod', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  CHARGE_POINT_ID,
  ORGANIZATION_ID,
  ID_TAG,
  SESSION_STATUS,
  BILLING_KIND,
  BILLING_STATUS,
  BILLING_PERIOD,
];
