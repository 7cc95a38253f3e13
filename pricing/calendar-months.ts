// Calendar months in a time zone, as 'YYYY-MM' periods: the allowances', invoices', statements' and
// schedules' month. Pure: no I/O, no clock.

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function monthFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The calendar month, 'YYYY-MM', that the instant falls in on a wall clock in the time zone. */
export function periodOf(timeZone: string, at: Date): string {
  let year = '';
  let month = '';
  for (const part of monthFormatter(timeZone).formatToParts(at)) {
    if (part.type === 'year') year = part.value;
    if (part.type === 'month') month = part.value;
  }
  return `${year.padStart(4, '0')}-${month}`;
}

/**
 * The first instant whose wall-clock month in the time zone is `year-month` (or later). Searched rather than
 * computed from an offset, so DST changes near midnight and zones with odd offsets need no special cases:
 * UTC offsets lie within ±14 h, so the instant lies within 16 h of midnight UTC of the 1st.
 */
function startOfMonth(timeZone: string, year: number, month: number): Date {
  const target = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
  const midnightUtc = Date.UTC(year, month - 1, 1);
  let before = midnightUtc - 16 * HOUR_MS;
  let from = midnightUtc + 16 * HOUR_MS;
  while (from - before > 1) {
    const mid = Math.floor((before + from) / 2);
    if (periodOf(timeZone, new Date(mid)) >= target) from = mid;
    else before = mid;
  }
  return new Date(from);
}

/** Where the period starts and where the next one starts, as UTC instants. */
export function periodBounds(timeZone: string, period: string): { start: Date; end: Date } {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  if (!match) throw new RangeError(`not a period: ${period}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  return {
    start: startOfMonth(timeZone, year, month),
    end: month === 12 ? startOfMonth(timeZone, year + 1, 1) : startOfMonth(timeZone, year, month + 1),
  };
}

/** The month before, 'YYYY-MM'. */
export function previousPeriod(period: string): string {
  const [year, month] = period.split('-').map(Number);
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
}

/** The period's last calendar day, 'YYYY-MM-DD'. */
export function lastDayOf(period: string): string {
  const [year, month] = period.split('-').map(Number);
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}
