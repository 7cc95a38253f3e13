import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes ops filter on in the Temporal UI; registered by bin/start and docker-compose.
export const CHARGE_POINT_ID = defineSearchAttributeKey('ChargePointId', SearchAttributeType.KEYWORD);
export const ORGANIZATION_ID = defineSearchAttributeKey('OrganizationId', SearchAttributeType.KEYWORD);
export const ID_TAG = defineSearchAttributeKey('IdTag', SearchAttributeType.KEYWORD);
export const SESSION_STATUS = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);

export const EXEMPTION_STATUS = defineSearchAttributeKey('ExemptionStatus', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  CHARGE_POINT_ID,
  ORGANIZATION_ID,
  ID_TAG,
  SESSION_STATUS,
  EXEMPTION_STATUS,
];
