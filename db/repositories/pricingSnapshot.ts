import type { Knex } from 'knex';
import type { PricingContext } from '../../pricing/rule-evaluation';
import { BillingRule, powerClassOf } from '../../pricing/rules';
import type { AppliedPromotion } from '../../pricing/session-price';
import { getAllowanceStatus } from './allowances';
import { loadActiveRules } from './billingRules';
import { findPricingContext } from './chargePoints';
import { findApplicablePromotion } from './promotionRedemptions';
import type { PayerContext } from './sessions';

/** What a session is priced with, fixed at its start (absent in sessions opened before it existed). */
export interface PricingSnapshot {
  userId: string | null;
  rules: BillingRule[];
  context: PricingContext;
  /** The promotion the driver had when the session started; redeemed (or refused) when it stops. */
  promotion: AppliedPromotion | null;
  allowanceRemainingKwh: string | null;
}

export interface SnapshotRequest {
  organizationId: string;
  chargePointId: string;
  connectorId: number;
  /** A real session may have a code applied to it; a quote has none. */
  sessionId: string | null;
  payer: Pick<PayerContext, 'userId' | 'userType' | 'membershipValidUntil'>;
  at: Date;
  /** A quote may name a code to try; it is looked up, never redeemed. */
  promotion?: AppliedPromotion | null;
}

/** The same snapshot for a session's start and for a quote, so a quote prices exactly like the session. */
export async function snapshotPricing(db: Knex, req: SnapshotRequest): Promise<PricingSnapshot> {
  const { payer, at } = req;
  const place = await findPricingContext(db, req.chargePointId, req.connectorId);
  const rules = await loadActiveRules(db, req.organizationId, at);
  const promotion =
    req.promotion !== undefined
      ? req.promotion
      : payer.userId
        ? await findApplicablePromotion(db, { userId: payer.userId, sessionId: req.sessionId, at })
        : null;
  const allowance = payer.userId
    ? await getAllowanceStatus(db, req.organizationId, payer.userId, at)
    : undefined;
  return {
    userId: payer.userId,
    rules,
    context: {
      userType: payer.userType,
      siteId: place?.siteId ?? null,
      chargePointId: req.chargePointId,
      powerClass: place ? powerClassOf(place.powerType, place.maxPowerKw) : null,
      connectorType: place?.connectorType ?? null,
      promotionalCode: promotion ? promotion.code.toUpperCase() : null,
      member: payer.membershipValidUntil !== null && payer.membershipValidUntil.getTime() > at.getTime(),
      timeZone: place?.timeZone ?? 'UTC',
    },
    promotion,
    allowanceRemainingKwh: allowance ? allowance.remaining_kwh : null,
  };
}
