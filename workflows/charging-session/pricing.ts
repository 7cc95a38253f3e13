import type { OpenedSession } from '../../activities/charging-session';
import { Dec } from '../../pricing/money';
import type { PricingContext } from '../../pricing/rule-evaluation';
import {
  AppliedPromotion,
  priceChargingSession,
  PricedSession,
  SessionPricingInput,
} from '../../pricing/session-price';
import type { ChargingSessionInput, StopTransactionV1 } from './messages';
import type { MeterState } from './usage';

// The running cost and the final price are the same function over the same snapshot; only the end of the
// usage and what was claimed (promotion redeemed, allowance granted) differ.

function contextOf(input: ChargingSessionInput, opened: OpenedSession): PricingContext {
  return (
    opened.pricing?.context ?? {
      userType: null,
      siteId: null,
      chargePointId: input.chargePointId,
      powerClass: null,
      connectorType: null,
      promotionalCode: null,
      member: false,
      timeZone: 'UTC',
    }
  );
}

function baseInput(
  input: ChargingSessionInput,
  opened: OpenedSession,
  meter: MeterState,
  end: { stoppedAt: string; meterStopWh: string },
): Omit<SessionPricingInput, 'tariff'> {
  return {
    rules: opened.pricing?.rules ?? [],
    context: contextOf(input, opened),
    usage: {
      startedAt: input.startedAt,
      stoppedAt: end.stoppedAt,
      meterStartWh: input.meterStartWh,
      meterStopWh: end.meterStopWh,
      samples: meter.samples ?? [],
      statuses: meter.statuses ?? [],
    },
  };
}

/** The cost so far, assuming the promotion and allowance known at the start will be granted. */
export function priceRunning(
  input: ChargingSessionInput,
  opened: OpenedSession,
  meter: MeterState,
): PricedSession | null {
  if (!opened.tariff) return null;
  const energyKwh = Dec.max(new Dec(meter.lastEnergyWh).sub(input.meterStartWh), 0).div(1000);
  const remaining = opened.pricing?.allowanceRemainingKwh;
  return priceChargingSession({
    tariff: opened.tariff,
    ...baseInput(input, opened, meter, { stoppedAt: meter.lastTimestamp, meterStopWh: meter.lastEnergyWh }),
    promotion: opened.pricing?.promotion ?? null,
    allowanceKwh: remaining ? Dec.min(energyKwh, remaining).toFixed() : undefined,
  });
}

export interface Claimed {
  promotion: AppliedPromotion | null;
  promotionRefusal: string | null;
  allowanceKwh: string;
}

export function priceFinal(
  input: ChargingSessionInput,
  opened: OpenedSession,
  meter: MeterState,
  stop: StopTransactionV1,
  claimed: Claimed,
): PricedSession | null {
  if (!opened.tariff) return null;
  const priced = priceChargingSession({
    tariff: opened.tariff,
    ...baseInput(input, opened, meter, { stoppedAt: stop.timestamp, meterStopWh: stop.meterStopWh }),
    promotion: claimed.promotion,
    allowanceKwh: claimed.allowanceKwh,
  });
  if (!claimed.promotion && claimed.promotionRefusal) {
    return { ...priced, promotion: refusedPromotion(opened, claimed.promotionRefusal) };
  }
  return priced;
}

function refusedPromotion(opened: OpenedSession, reason: string): PricedSession['promotion'] {
  const wanted = opened.pricing?.promotion;
  return {
    promotionalCodeId: wanted?.promotionalCodeId ?? '',
    code: wanted?.code ?? '',
    applied: false,
    reason,
  };
}
