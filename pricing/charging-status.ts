import type { RejectedReading } from './meter-readings';
import { parseRfc3339, text } from './reading-parsers';

/*
 * When charging ended, from connector statuses (and, without them, from the register). The platform bills
 * idle time as the time a vehicle stays plugged in after charging ended, so everything before chargingEndMs
 * is charging time, even a mid-session pause, and everything after is parking. Pauses are not charged as
 * idle because most are the charger's doing (load management, SuspendedEVSE) or the vehicle's own
 * (SuspendedEV while balancing), not a driver blocking the bay. Only statuses inside the session count,
 * plus the last one before it, which gives the state at the start; statuses after the stop (Finishing,
 * Available) say nothing about the session.
 */

/** OCPP 1.6 ChargePointStatus: Charging, SuspendedEV, SuspendedEVSE, Finishing, Available, Preparing, ... */
export interface StatusChange {
  timestamp: string;
  status: string;
}

const CHARGING = 'Charging';

export interface TimedStatus {
  ms: number;
  status: string;
}

/**
 * The statuses that describe the session: the last one before it (the state at the start, placed at the
 * start) and those inside it, in time order; statuses at one instant keep the order they were received in.
 * Statuses outside the session are normal (Preparing before it, Finishing and Available after it) and are
 * not reported; an unreadable timestamp is.
 */
export function sessionStatuses(
  statuses: StatusChange[],
  startMs: number,
  endMs: number,
  rejected: RejectedReading[],
): TimedStatus[] {
  const inside: TimedStatus[] = [];
  let before: TimedStatus | undefined;
  for (const s of statuses) {
    const ms = parseRfc3339(s.timestamp);
    if (Number.isNaN(ms)) {
      rejected.push({
        timestamp: text(s.timestamp),
        field: 'timestamp',
        value: text(s.timestamp),
        reason: `the status ${JSON.stringify(s.status)} has the timestamp ${JSON.stringify(s.timestamp)}, not an RFC 3339 date-time; it is ignored`,
      });
    } else if (ms < startMs) {
      if (before === undefined || ms >= before.ms) before = { ms, status: s.status };
    } else if (ms <= endMs) {
      inside.push({ ms, status: s.status });
    }
  }
  inside.sort((a, b) => a.ms - b.ms);
  if (before !== undefined) inside.unshift({ ms: startMs, status: before.status });
  return inside;
}

/** Instants strictly inside the session at which the status changes (a repeated status is no change). */
export function statusChangeCuts(statuses: TimedStatus[], startMs: number, endMs: number): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < statuses.length; i++) {
    const { ms, status } = statuses[i];
    if (ms > startMs && ms < endMs && (i === 0 || statuses[i - 1].status !== status)) cuts.push(ms);
  }
  return cuts;
}

/**
 * The last change from Charging to another status with no Charging after it. Without any Charging status,
 * the register (ptMs, ptE) is the only evidence: the first instant it shows its final value stopE.
 */
export function chargingEnd(
  statuses: TimedStatus[],
  endMs: number,
  ptMs: number[],
  ptE: number[],
  stopE: number,
): number {
  let sawCharging = false;
  let charging = false;
  let stoppedCharging = endMs;
  for (const { ms, status } of statuses) {
    const isCharging = status === CHARGING;
    if (isCharging) sawCharging = true;
    else if (charging) stoppedCharging = ms;
    charging = isCharging;
  }
  if (sawCharging) return charging ? endMs : stoppedCharging;
  // No energy delivered says nothing about when charging ended, and idle time is not billed on no evidence.
  if (ptE[0] === stopE) return endMs;
  for (let i = 1; i < ptE.length; i++) if (ptE[i] === stopE) return ptMs[i];
  return endMs;
}
