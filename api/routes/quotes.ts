import type { Router } from 'express';
import { snapshotPricing } from '../../db/repositories/pricingSnapshot';
import { findPromotionForQuote } from '../../db/repositories/promotionalCodes';
import { resolveTariffForSession, scopeExists } from '../../db/repositories/tariffs';
import { getUser } from '../../db/repositories/users';
import { Dec } from '../../pricing/money';
import { priceChargingSession } from '../../pricing/session-price';
import type { ResolvedDeps } from '../deps';
import { ApiError, invalidParam, resourceMissing } from '../errors';
import { write } from '../handler';
import {
  Body,
  optionalInteger,
  optionalString,
  optionalTimestamp,
  readBody,
  requiredDecimal,
  requiredString,
} from '../validation';
import { pricedJson } from './sessions';

const FIELDS = [
  'charge_point_id',
  'connector_id',
  'user_id',
  'started_at',
  'energy_kwh',
  'charging_minutes',
  'idle_minutes',
  'promotional_code',
] as const;
const ID = { max: 64 };
const QUANTITY = { maxDecimals: 3, maxIntegerDigits: 5 };
const WEEK_MINUTES = 7 * 24 * 60;

function minutes(body: Body, param: string, required: boolean): Dec {
  if (!required && (body[param] === undefined || body[param] === null)) return new Dec(0);
  const value = new Dec(requiredDecimal(body, param, QUANTITY));
  if (value.gt(WEEK_MINUTES)) throw invalidParam(param, `must be at most ${WEEK_MINUTES} (one week)`);
  return value;
}

/**
 * A price before charging: the hypothetical session is priced by the same function, tariff resolution,
 * rules, promotion and allowance as a real one starting at that moment. Nothing is redeemed or consumed.
 */
export function registerQuoteRoutes(router: Router, deps: ResolvedDeps): void {
  router.post(
    '/quotes',
    write(deps, async ({ db, org, body: raw }) => {
      const body = readBody(raw, FIELDS);
      const chargePointId = requiredString(body, 'charge_point_id', ID);
      const connectorId = optionalInteger(body, 'connector_id', 1, 100) ?? 1;
      const userId = optionalString(body, 'user_id', ID);
      const at = optionalTimestamp(body, 'started_at') ?? new Date();
      const energyKwh = new Dec(requiredDecimal(body, 'energy_kwh', QUANTITY));
      const chargingMinutes = minutes(body, 'charging_minutes', true);
      const idleMinutes = minutes(body, 'idle_minutes', false);
      const code = optionalString(body, 'promotional_code', { max: 40, trim: true });

      if (!(await scopeExists(db, org.id, 'charge_point', chargePointId)))
        throw resourceMissing('charge point', chargePointId, 'charge_point_id');
      const user = userId === undefined ? undefined : await getUser(db, org.id, userId);
      if (userId !== undefined && !user) throw resourceMissing('user', userId, 'user_id');

      const payer = {
        userId: user?.id ?? null,
        userType: user?.userType ?? null,
        membershipValidUntil: user?.membershipValidUntil ?? null,
      };
      const tariff = await resolveTariffForSession(db, { chargePointId, userType: payer.userType, at });
      if (!tariff) {
        throw new ApiError(
          422,
          'invalid_request_error',
          'no_tariff',
          'No tariff is assigned to this charge point, its site or its project at started_at.',
          'charge_point_id',
        );
      }
      const promotion = code === undefined ? undefined : await findPromotionForQuote(db, org.id, code, at);
      if (code !== undefined && !promotion) {
        throw invalidParam('promotional_code', 'is not an active promotional code of this organization');
      }
      const snapshot = await snapshotPricing(db, {
        organizationId: org.id,
        chargePointId,
        connectorId,
        sessionId: null,
        payer,
        at,
        promotion,
      });

      const chargeEnd = at.getTime() + chargingMinutes.mul(60_000).round().toNumber();
      const end = chargeEnd + idleMinutes.mul(60_000).round().toNumber();
      const energyWh = energyKwh.mul(1000).toFixed();
      const remaining = snapshot.allowanceRemainingKwh;
      const priced = priceChargingSession({
        tariff,
        rules: snapshot.rules,
        context: snapshot.context,
        promotion: snapshot.promotion,
        allowanceKwh: remaining ? Dec.min(energyKwh, remaining).toFixed() : undefined,
        usage: {
          startedAt: at.toISOString(),
          stoppedAt: new Date(end).toISOString(),
          meterStartWh: '0',
          meterStopWh: energyWh,
          // All energy by the end of charging, nothing after: the idle minutes are idle.
          samples: [{ timestamp: new Date(chargeEnd).toISOString(), energyWh }],
          statuses: [
            { timestamp: at.toISOString(), status: 'Charging' },
            ...(end > chargeEnd
              ? [{ timestamp: new Date(chargeEnd).toISOString(), status: 'SuspendedEV' }]
              : []),
          ],
        },
      });
      return {
        status: 200,
        body: {
          object: 'quote',
          charge_point_id: chargePointId,
          connector_id: connectorId,
          user_id: payer.userId,
          started_at: at.toISOString(),
          ...pricedJson(priced),
        },
      };
    }),
  );
}
