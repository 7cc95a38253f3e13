import fc from 'fast-check';
import {
  dateFromEpochDay,
  epochDayOf,
  isValidTimeZone,
  localParts,
  localToInstant,
  zoneOffsetMs,
} from '../../pricing/local-time';

const at = (iso: string) => Date.parse(iso);

/** Local parts the slow way, straight from Intl, to check the cached arithmetic against. */
function intlParts(tz: string, ms: number) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    weekday: 'long',
  }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const hour = Number(get('hour')) % 24;
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    secondOfDay: hour * 3600 + Number(get('minute')) * 60 + Number(get('second')),
    dayOfWeek: get('weekday').toUpperCase(),
  };
}

describe('isValidTimeZone', () => {
  it.each(['UTC', 'Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe'])('accepts %s', (tz) => {
    expect(isValidTimeZone(tz)).toBe(true);
  });
  it.each(['', 'Europe/Atlantis', 'CEST+2', 'not a zone'])('refuses %j', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
  it('makes the other helpers throw a RangeError for an unknown zone', () => {
    expect(() => localParts('Mars/Olympus', 0)).toThrow(RangeError);
  });
});

describe('localParts', () => {
  it('reads Amsterdam across the spring-forward jump (2025-03-30 02:00 CET -> 03:00 CEST)', () => {
    expect(localParts('Europe/Amsterdam', at('2025-03-30T00:59:59Z'))).toEqual({
      date: '2025-03-30',
      minuteOfDay: 119,
      secondOfDay: 7199,
      dayOfWeek: 'SUNDAY',
    });
    expect(localParts('Europe/Amsterdam', at('2025-03-30T01:00:00Z'))).toMatchObject({
      minuteOfDay: 180,
      secondOfDay: 10800,
    });
  });

  it('reads Amsterdam across the fall-back jump (2025-10-26 03:00 CEST -> 02:00 CET)', () => {
    expect(localParts('Europe/Amsterdam', at('2025-10-26T00:59:59Z')).secondOfDay).toBe(3 * 3600 - 1);
    expect(localParts('Europe/Amsterdam', at('2025-10-26T01:00:00Z')).secondOfDay).toBe(2 * 3600);
  });

  it('reads New York in both DST directions', () => {
    expect(localParts('America/New_York', at('2025-03-09T06:59:59Z')).minuteOfDay).toBe(60 + 59);
    expect(localParts('America/New_York', at('2025-03-09T07:00:00Z')).minuteOfDay).toBe(180);
    expect(localParts('America/New_York', at('2025-11-02T05:59:59Z')).minuteOfDay).toBe(60 + 59);
    expect(localParts('America/New_York', at('2025-11-02T06:00:00Z')).minuteOfDay).toBe(60);
  });

  it('reads Lord Howe, whose DST moves the clock by half an hour', () => {
    // Standard time +10:30, summer time +11:00.
    expect(localParts('Australia/Lord_Howe', at('2025-04-05T14:59:59Z'))).toMatchObject({
      date: '2025-04-06',
      secondOfDay: 2 * 3600 - 1,
    });
    expect(localParts('Australia/Lord_Howe', at('2025-04-05T15:00:00Z')).minuteOfDay).toBe(90);
    expect(localParts('Australia/Lord_Howe', at('2025-10-04T15:29:59Z')).secondOfDay).toBe(2 * 3600 - 1);
    expect(localParts('Australia/Lord_Howe', at('2025-10-04T15:30:00Z')).minuteOfDay).toBe(150);
  });

  it('puts midnight at the start of the new day, with its weekday', () => {
    expect(localParts('Europe/Amsterdam', at('2025-01-05T23:00:00Z'))).toEqual({
      date: '2025-01-06',
      minuteOfDay: 0,
      secondOfDay: 0,
      dayOfWeek: 'MONDAY',
    });
    expect(localParts('Europe/Amsterdam', at('2025-01-05T22:59:59.999Z'))).toMatchObject({
      date: '2025-01-05',
      secondOfDay: 86399,
      dayOfWeek: 'SUNDAY',
    });
  });

  it('agrees with Intl at arbitrary instants in several zones, transitions included', () => {
    const zones = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2030-12-31T00:00:00Z') }),
        (tz, ms) => {
          const ours = localParts(tz, ms);
          const theirs = intlParts(tz, ms);
          expect({ date: ours.date, secondOfDay: ours.secondOfDay, dayOfWeek: ours.dayOfWeek }).toEqual(
            theirs,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is right on every second around a transition, not only at bucket edges', () => {
    const start = at('2025-10-26T00:58:00Z');
    for (let ms = start; ms < start + 4 * 60_000; ms += 1000) {
      expect(localParts('Europe/Amsterdam', ms).secondOfDay).toBe(
        intlParts('Europe/Amsterdam', ms).secondOfDay,
      );
    }
  });
});

describe('localToInstant', () => {
  it('maps an ordinary wall-clock time to its instant', () => {
    expect(localToInstant('Europe/Amsterdam', '2025-07-01', 17 * 60)).toBe(at('2025-07-01T15:00:00Z'));
    expect(localToInstant('America/New_York', '2025-01-15', 9 * 60 + 30)).toBe(at('2025-01-15T14:30:00Z'));
  });

  it('takes minute 1440 as the next midnight', () => {
    expect(localToInstant('Europe/Amsterdam', '2025-12-31', 1440)).toBe(at('2025-12-31T23:00:00Z'));
  });

  it('maps a time inside the spring-forward gap to the instant the clock jumps', () => {
    // 02:30 does not exist in Amsterdam on 2025-03-30; the clock jumps from 02:00 to 03:00 at 01:00 UTC.
    expect(localToInstant('Europe/Amsterdam', '2025-03-30', 150)).toBe(at('2025-03-30T01:00:00Z'));
    expect(localToInstant('America/New_York', '2025-03-09', 150)).toBe(at('2025-03-09T07:00:00Z'));
    expect(localToInstant('Australia/Lord_Howe', '2025-10-05', 135)).toBe(at('2025-10-04T15:30:00Z'));
  });

  it('maps a time inside the fall-back overlap to its first occurrence', () => {
    expect(localToInstant('Europe/Amsterdam', '2025-10-26', 150)).toBe(at('2025-10-26T00:30:00Z'));
    expect(localToInstant('America/New_York', '2025-11-02', 90)).toBe(at('2025-11-02T05:30:00Z'));
    // Lord Howe repeats 01:30-02:00 (+11:00 first, then +10:30).
    expect(localToInstant('Australia/Lord_Howe', '2025-04-06', 105)).toBe(at('2025-04-05T14:45:00Z'));
  });

  it('round-trips with localParts for every existing minute of a DST day', () => {
    for (const [tz, date] of [
      ['Europe/Amsterdam', '2025-10-26'],
      ['Australia/Lord_Howe', '2025-04-06'],
    ]) {
      for (let minute = 0; minute < 1440; minute += 5) {
        const ms = localToInstant(tz, date, minute);
        expect(localParts(tz, ms)).toMatchObject({ date, minuteOfDay: minute });
      }
    }
  });

  it('refuses minutes outside 0..1440', () => {
    expect(() => localToInstant('UTC', '2025-01-01', 1441)).toThrow(RangeError);
    expect(() => localToInstant('UTC', '2025-01-01', -1)).toThrow(RangeError);
  });
});

describe('zone offsets and day numbers', () => {
  it('gives the offset in ms', () => {
    expect(zoneOffsetMs('Australia/Lord_Howe', at('2025-07-01T00:00:00Z'))).toBe(10.5 * 3_600_000);
    expect(zoneOffsetMs('Asia/Kolkata', at('2025-07-01T00:00:00Z'))).toBe(5.5 * 3_600_000);
  });
  it('converts dates to day numbers and back', () => {
    expect(epochDayOf('1970-01-01')).toBe(0);
    expect(dateFromEpochDay(epochDayOf('2024-02-29'))).toBe('2024-02-29');
    expect(epochDayOf('2025-03-01') - epochDayOf('2025-02-28')).toBe(1);
  });
});
