import fc from 'fast-check';
import {
  buildTimeline,
  RawSample,
  StatusChange,
  Timeline,
  TimelineCuts,
  TimelineInput,
} from '../../pricing/meter-timeline';

const day = '2024-05-01';
const iso = (hms: string) => `${day}T${hms}Z`;
const at = (hms: string) => Date.parse(iso(hms));
const MIN = 60_000;
const noCuts: TimelineCuts = { instantsMs: [], energyThresholdsMWh: [], durationThresholdsMs: [] };

function build(over: Partial<TimelineInput> = {}): Timeline {
  return buildTimeline({
    startedAt: iso('10:00:00'),
    stoppedAt: iso('11:00:00'),
    meterStartWh: '1000',
    meterStopWh: '1600',
    samples: [],
    statuses: [],
    cuts: noCuts,
    ...over,
  });
}

/** What every timeline must satisfy, whatever its input. */
function expectConsistent(t: Timeline): void {
  const { periods } = t;
  expect(periods.length).toBeGreaterThan(0);
  expect(periods[0].startMs).toBe(t.sessionStartMs);
  let energy = 0;
  let time = 0;
  for (let i = 0; i < periods.length; i++) {
    const p = periods[i];
    const length = p.timeMs + p.parkingMs;
    const next = i + 1 < periods.length ? periods[i + 1].startMs : t.sessionEndMs;
    expect(next - p.startMs).toBe(length);
    if (t.sessionEndMs > t.sessionStartMs) expect(length).toBeGreaterThan(0);
    expect(p.timeMs === 0 || p.parkingMs === 0).toBe(true);
    expect(p.timeMs > 0).toBe(p.startMs + length <= t.chargingEndMs && length > 0);
    expect(Number.isInteger(p.energyMWh) && p.energyMWh >= 0).toBe(true);
    energy += p.energyMWh;
    time += length;
  }
  expect(energy).toBe(t.energyMWh);
  expect(time).toBe(t.sessionEndMs - t.sessionStartMs);
}

const energies = (t: Timeline) => t.periods.map((p) => p.energyMWh);
const starts = (t: Timeline) => t.periods.map((p) => p.startMs);

describe('buildTimeline without samples', () => {
  it('draws a straight line from start to stop and cuts it at the given instants inside the session', () => {
    const t = build({
      cuts: { ...noCuts, instantsMs: [at('10:15:00'), at('10:40:00'), at('09:00:00'), at('11:00:00')] },
    });
    expectConsistent(t);
    expect(starts(t)).toEqual([at('10:00:00'), at('10:15:00'), at('10:40:00')]);
    expect(energies(t)).toEqual([150_000, 250_000, 200_000]);
    expect(t.energyMWh).toBe(600_000);
    // 600 Wh in an hour, whichever slice of it.
    expect(t.periods.map((p) => [p.minPowerKw, p.maxPowerKw])).toEqual([
      [0.6, 0.6],
      [0.6, 0.6],
      [0.6, 0.6],
    ]);
    expect(t.chargingEndMs).toBe(at('11:00:00'));
    expect(t.rejected).toEqual([]);
  });

  it('computes an interpolation whose product leaves the safe integer range exactly', () => {
    // 7744515.823 Wh over 42622794 ms, cut half-way: exactly 3872257911.5 mWh, which rounds up. The product
    // (7.7e9 * 2.1e7) is past 2^53, and computed in floats it comes out just below the half: 1 mWh short.
    const start = at('10:00:00');
    const t = buildTimeline({
      startedAt: iso('10:00:00'),
      stoppedAt: new Date(start + 42_622_794).toISOString(),
      meterStartWh: '0',
      meterStopWh: '7744515.823',
      samples: [],
      statuses: [],
      cuts: { ...noCuts, instantsMs: [start + 21_311_397] },
    });
    expect(energies(t)).toEqual([3_872_257_912, 7_744_515_823 - 3_872_257_912]);
  });
});

describe('interpolation across a cut', () => {
  const base = {
    startedAt: iso('21:40:00'),
    stoppedAt: iso('22:30:00'),
    meterStartWh: '9000',
    meterStopWh: '14000',
    cuts: { ...noCuts, instantsMs: [at('22:00:00')] },
  };

  it('splits the energy between the samples at 21:50 and 22:10 exactly at a 22:00 window boundary', () => {
    const t = build({
      ...base,
      samples: [
        { timestamp: iso('21:50:00'), energyWh: '10000' },
        { timestamp: iso('22:10:00'), energyWh: '13700' },
      ],
    });
    expectConsistent(t);
    expect(starts(t)).toEqual([at('21:40:00'), at('21:50:00'), at('22:00:00'), at('22:10:00')]);
    expect(energies(t)).toEqual([1_000_000, 1_850_000, 1_850_000, 300_000]);
  });

  it('rounds the energy at a cut half-up to the milli-Wh, once', () => {
    const t = build({
      ...base,
      meterStartWh: '10000',
      meterStopWh: '10000.001',
      samples: [
        { timestamp: iso('21:50:00'), energyWh: '10000' },
        { timestamp: iso('22:10:00'), energyWh: '10000.001' },
      ],
    });
    // E(22:00) = 10000.0005 Wh -> 10000001 mWh: the milli-Wh goes to the period before the boundary.
    expect(energies(t)).toEqual([0, 1, 0, 0]);
  });

  it('keeps the sum exact when several cuts fall between two samples', () => {
    const instantsMs = [1, 2, 3, 4, 5, 6].map((k) => at('21:50:00') + k * 171_429);
    const t = build({
      ...base,
      meterStopWh: '10000.007',
      samples: [
        { timestamp: iso('21:50:00'), energyWh: '10000' },
        { timestamp: iso('22:10:00'), energyWh: '10000.007' },
      ],
      cuts: { ...noCuts, instantsMs },
    });
    expectConsistent(t);
    expect(t.energyMWh).toBe(1_000_007);
    expect(energies(t).slice(1)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });
});

describe('sample order and duplicates', () => {
  const ordered: RawSample[] = [
    { timestamp: iso('10:10:00'), energyWh: '1100', powerW: '7000' },
    { timestamp: iso('10:20:00'), energyWh: '1250', powerW: '9000' },
    { timestamp: iso('10:30:00'), energyWh: '1400', powerW: '8000', currentA: '32' },
    { timestamp: iso('10:50:00'), energyWh: '1600', powerW: '0' },
  ];

  it('sorts readings by time and collapses identical duplicates without reporting them', () => {
    const sorted = build({ samples: ordered });
    const scrambled = build({
      samples: [ordered[2], ordered[0], ordered[3], ordered[2], ordered[1], ordered[0]],
    });
    expectConsistent(sorted);
    expect(scrambled).toEqual(sorted);
    expect(scrambled.rejected).toEqual([]);
    expect(energies(sorted)).toEqual([100_000, 150_000, 150_000, 200_000, 0]);
    expect(starts(sorted)).toEqual(
      ['10:00:00', '10:10:00', '10:20:00', '10:30:00', '10:50:00'].map((h) => at(h)),
    );
  });

  it('treats the same instant written two ways as one instant', () => {
    const t = build({
      samples: [
        { timestamp: '2024-05-01T12:30:00+02:00', energyWh: '1400' },
        { timestamp: '2024-05-01T10:30:00.000Z', energyWh: '1400.000' },
      ],
    });
    expect(t.rejected).toEqual([]);
    expect(starts(t)).toEqual([at('10:00:00'), at('10:30:00')]);
  });

  it('keeps the lower of two conflicting readings at one instant whatever the arrival order', () => {
    // The lower value constrains the readings after it least; "1000" sorts before "999.9" as text.
    const a = { timestamp: iso('10:30:00'), energyWh: '999.9' };
    const b = { timestamp: iso('10:30:00'), energyWh: '1000' };
    const one = build({ meterStartWh: '900', samples: [a, b, b] });
    const other = build({ meterStartWh: '900', samples: [b, a, b] });
    expect(other).toEqual(one);
    expect(one.rejected).toEqual([
      {
        timestamp: iso('10:30:00'),
        field: 'energyWh',
        value: '1000',
        reason: 'energy register 1000.0 Wh at 10:30:00Z conflicts with 999.9 Wh read at the same instant',
      },
    ]);
  });

  it('reports a repeated bad reading once', () => {
    const bad = { timestamp: iso('10:40:00'), powerW: 'n/a' };
    const t = build({
      samples: [
        bad,
        { ...bad },
        { timestamp: 'never', energyWh: '1' },
        { timestamp: 'never', energyWh: '1' },
      ],
    });
    expect(t.rejected.map((r) => r.value)).toEqual(['never', 'n/a']);
  });
});

describe('rejected readings', () => {
  const reasons = (t: Timeline) => t.rejected.map((r) => [r.field, r.value, r.reason]);

  it('explains a register that goes backwards with figures, and prices the rest', () => {
    const t = build({
      meterStopWh: '2000',
      samples: [
        { timestamp: iso('10:04:00'), energyWh: '1600' },
        { timestamp: iso('10:05:00'), energyWh: '1520' },
        { timestamp: iso('10:06:00'), energyWh: '1700' },
      ],
    });
    expectConsistent(t);
    expect(t.rejected).toEqual([
      {
        timestamp: iso('10:05:00'),
        field: 'energyWh',
        value: '1520',
        reason: 'energy register 1520.0 Wh at 10:05:00Z is below 1600.0 Wh read at 10:04:00Z',
      },
    ]);
    expect(energies(t)).toEqual([600_000, 100_000, 300_000]);
  });

  it('rejects a register below the meter start value or above the meter stop value', () => {
    const t = build({
      samples: [
        { timestamp: iso('10:05:00'), energyWh: '999.5' },
        { timestamp: iso('10:10:00'), energyWh: '1700' },
        { timestamp: iso('11:00:00'), energyWh: '1599' },
      ],
    });
    expectConsistent(t);
    expect(reasons(t)).toEqual([
      ['energyWh', '999.5', 'energy register 999.5 Wh at 10:05:00Z is below the meter start value 1000.0 Wh'],
      ['energyWh', '1700', 'energy register 1700.0 Wh at 10:10:00Z is above the meter stop value 1600.0 Wh'],
      [
        'energyWh',
        '1599',
        'energy register 1599.0 Wh at 11:00:00Z conflicts with the meter stop value 1600.0 Wh at the session stop',
      ],
    ]);
    expect(energies(t)).toEqual([600_000]);
  });

  it('rejects values that are not plain non-negative decimals, field by field', () => {
    const t = build({
      samples: [
        { timestamp: iso('10:10:00'), energyWh: 'abc', powerW: '-5', currentA: '1e2', soc: '104' },
        { timestamp: iso('10:20:00'), energyWh: '-1200', powerW: '7400', currentA: '', soc: '-3' },
        { timestamp: iso('10:30:00'), energyWh: '1300.', powerW: '-0', currentA: '16.5', soc: '55.5' },
      ],
    });
    expectConsistent(t);
    expect(reasons(t)).toEqual([
      ['energyWh', 'abc', 'energy register "abc" at 10:10:00Z is not a plain decimal number'],
      ['powerW', '-5', 'power "-5" W at 10:10:00Z is negative'],
      ['currentA', '1e2', 'current "1e2" A at 10:10:00Z is not a plain decimal number'],
      ['soc', '104', 'state of charge 104 % at 10:10:00Z is above 100 %'],
      ['energyWh', '-1200', 'energy register "-1200" at 10:20:00Z is negative'],
      ['currentA', '', 'current "" A at 10:20:00Z is not a plain decimal number'],
      ['soc', '-3', 'state of charge "-3" % at 10:20:00Z is negative'],
      ['energyWh', '1300.', 'energy register "1300." at 10:30:00Z is not a plain decimal number'],
    ]);
    // The sample with nothing usable does not cut; "-0" W is zero, not negative.
    expect(starts(t)).toEqual([at('10:00:00'), at('10:20:00'), at('10:30:00')]);
    expect(t.periods[2]).toMatchObject({
      minPowerKw: 0,
      maxPowerKw: 0,
      minCurrentA: 16.5,
      maxCurrentA: 16.5,
    });
  });

  it('rejects timestamps that are not RFC 3339 or lie outside the session', () => {
    const t = build({
      samples: [
        { timestamp: '2024-05-01 10:05:00Z', energyWh: '1100' },
        { timestamp: '2024-05-01T10:05:00', energyWh: '1100' },
        { timestamp: '2024-02-30T10:05:00Z', energyWh: '1100' },
        { timestamp: '2023-02-29T10:05:00Z', energyWh: '1100' },
        { timestamp: '2024-05-01T24:00:00Z', energyWh: '1100' },
        { timestamp: 'yesterday', energyWh: '1100' },
        { timestamp: 'yesterday', energyWh: '1100' },
        { timestamp: iso('09:59:59.999'), energyWh: '1000' },
        { timestamp: '2024-05-02T00:00:00Z', energyWh: '1600' },
      ],
    });
    expectConsistent(t);
    expect(t.rejected.every((r) => r.field === 'timestamp')).toBe(true);
    expect(t.rejected.map((r) => r.reason)).toEqual([
      'the reading\'s timestamp "2023-02-29T10:05:00Z" is not an RFC 3339 date-time; the reading is ignored',
      'the reading\'s timestamp "2024-02-30T10:05:00Z" is not an RFC 3339 date-time; the reading is ignored',
      'the reading\'s timestamp "2024-05-01 10:05:00Z" is not an RFC 3339 date-time; the reading is ignored',
      'the reading at 09:59:59.999Z is outside the session (10:00:00Z to 11:00:00Z); it is ignored',
      'the reading\'s timestamp "2024-05-01T10:05:00" is not an RFC 3339 date-time; the reading is ignored',
      'the reading\'s timestamp "2024-05-01T24:00:00Z" is not an RFC 3339 date-time; the reading is ignored',
      'the reading at 2024-05-02T00:00:00Z is outside the session (10:00:00Z to 11:00:00Z); it is ignored',
      'the reading\'s timestamp "yesterday" is not an RFC 3339 date-time; the reading is ignored',
    ]);
    expect(t.periods).toHaveLength(1);
  });

  it('reads RFC 3339 offsets, lower-case separators and sub-millisecond fractions', () => {
    const t = build({
      samples: [
        { timestamp: '2024-05-01t05:20:00.5-05:00', energyWh: '1200' },
        { timestamp: '2024-05-01T10:40:00.123456z', energyWh: '1400' },
      ],
    });
    expect(t.rejected).toEqual([]);
    expect(starts(t)).toEqual([at('10:00:00'), at('10:20:00') + 500, at('10:40:00') + 123]);
  });

  it('reports a stop value below the start value and takes the energy as 0', () => {
    const t = build({
      meterStopWh: '900',
      samples: [
        { timestamp: iso('10:30:00'), energyWh: '1100' },
        { timestamp: iso('10:40:00'), energyWh: '1000' },
      ],
      cuts: { ...noCuts, instantsMs: [at('10:15:00')] },
    });
    expectConsistent(t);
    expect(t.energyMWh).toBe(0);
    expect(energies(t)).toEqual([0, 0, 0]);
    expect(t.rejected).toEqual([
      {
        timestamp: iso('11:00:00'),
        field: 'energyWh',
        value: '900',
        reason:
          "the meter stop value 900.0 Wh is below the meter start value 1000.0 Wh; the session's energy is taken as 0",
      },
      {
        timestamp: iso('10:30:00'),
        field: 'energyWh',
        value: '1100',
        reason:
          "energy register 1100.0 Wh at 10:30:00Z is above the session's final value 1000.0 Wh (the meter stop value was rejected)",
      },
    ]);
  });

  it('stands in the first or last register reading for an unreadable meter start or stop value', () => {
    const samples = [
      { timestamp: iso('10:20:00'), energyWh: '1200' },
      { timestamp: iso('10:40:00'), energyWh: '1500' },
    ];
    const noStart = build({ meterStartWh: 'n/a', samples });
    expectConsistent(noStart);
    expect(noStart.energyMWh).toBe(400_000);
    expect(energies(noStart)).toEqual([0, 300_000, 100_000]);
    expect(reasons(noStart)).toEqual([
      [
        'energyWh',
        'n/a',
        "the meter start value is not a plain decimal number; the session's first energy reading is used instead",
      ],
    ]);

    const noStop = build({ meterStopWh: '-1', samples });
    expectConsistent(noStop);
    expect(noStop.energyMWh).toBe(500_000);
    expect(energies(noStop)).toEqual([200_000, 300_000, 0]);
    expect(noStop.chargingEndMs).toBe(at('10:40:00'));
    expect(reasons(noStop)[0][2]).toBe(
      "the meter stop value is negative; the session's last energy reading is used instead",
    );
  });

  it('reports a session that stops before it starts as lasting 0 s, with its energy in one period', () => {
    const t = build({ stoppedAt: iso('09:00:00') });
    expectConsistent(t);
    expect(t.sessionEndMs).toBe(t.sessionStartMs);
    expect(t.periods).toEqual([{ startMs: at('10:00:00'), energyMWh: 600_000, timeMs: 0, parkingMs: 0 }]);
    expect(reasons(t)).toEqual([
      [
        'timestamp',
        iso('09:00:00'),
        'the session stop 09:00:00Z is before its start 10:00:00Z; the session is taken to last 0 s',
      ],
    ]);
  });

  it('rounds register values past the milli-Wh half-up', () => {
    const t = build({
      meterStartWh: '1000.0005',
      meterStopWh: '1600.00049',
      samples: [
        { timestamp: iso('10:20:00'), energyWh: '1200.1234' },
        { timestamp: iso('10:40:00'), energyWh: '1400.1235' },
      ],
    });
    expect(t.energyMWh).toBe(1_600_000 - 1_000_001);
    expect(energies(t)).toEqual([1_200_123 - 1_000_001, 1_400_124 - 1_200_123, 1_600_000 - 1_400_124]);
  });

  it('refuses cut values that are not integers, and session bounds that are not RFC 3339', () => {
    expect(() => build({ cuts: { ...noCuts, instantsMs: [at('10:30:00') + 0.5] } })).toThrow(RangeError);
    expect(() => build({ cuts: { ...noCuts, energyThresholdsMWh: [Number.NaN] } })).toThrow(RangeError);
    expect(() => build({ startedAt: '2024-05-01 10:00' })).toThrow(/startedAt/);
  });
});

describe('charging time and idle time', () => {
  it('counts everything after the last change from Charging as parking, and pauses before it as charging', () => {
    const statuses: StatusChange[] = [
      { timestamp: iso('10:40:00'), status: 'SuspendedEV' },
      { timestamp: iso('09:58:00'), status: 'Available' },
      { timestamp: iso('09:59:58'), status: 'Preparing' },
      { timestamp: iso('10:00:02'), status: 'Charging' },
      { timestamp: iso('10:20:00'), status: 'SuspendedEVSE' },
      { timestamp: iso('10:25:00'), status: 'Charging' },
      { timestamp: iso('11:00:03'), status: 'Finishing' },
      { timestamp: 'soon', status: 'Available' },
    ];
    const t = build({ statuses });
    expectConsistent(t);
    expect(t.chargingEndMs).toBe(at('10:40:00'));
    expect(starts(t)).toEqual(['10:00:00', '10:00:02', '10:20:00', '10:25:00', '10:40:00'].map((h) => at(h)));
    expect(t.periods.map((p) => [p.timeMs, p.parkingMs])).toEqual([
      [2000, 0],
      [20 * MIN - 2000, 0],
      [5 * MIN, 0],
      [15 * MIN, 0],
      [0, 20 * MIN],
    ]);
    expect(t.rejected).toEqual([
      {
        timestamp: 'soon',
        field: 'timestamp',
        value: 'soon',
        reason: 'the status "Available" has the timestamp "soon", not an RFC 3339 date-time; it is ignored',
      },
    ]);
  });

  it('charges until the stop when the last status is Charging, or when Charging was the state at the start', () => {
    const stillCharging = build({ statuses: [{ timestamp: iso('10:10:00'), status: 'Charging' }] });
    expect(stillCharging.chargingEndMs).toBe(at('11:00:00'));
    const fromBefore = build({
      statuses: [
        { timestamp: iso('09:59:59'), status: 'Charging' },
        { timestamp: iso('10:30:00'), status: 'Finishing' },
      ],
    });
    expectConsistent(fromBefore);
    expect(fromBefore.chargingEndMs).toBe(at('10:30:00'));
    expect(fromBefore.periods.map((p) => [p.timeMs, p.parkingMs])).toEqual([
      [30 * MIN, 0],
      [0, 30 * MIN],
    ]);
  });

  it('ends charging at the change from Charging, not at later changes between other statuses', () => {
    const t = build({
      statuses: [
        { timestamp: iso('10:05:00'), status: 'Charging' },
        // A repeated status is no change and cuts nothing.
        { timestamp: iso('10:20:00'), status: 'Charging' },
        { timestamp: iso('10:40:00'), status: 'SuspendedEV' },
        { timestamp: iso('10:50:00'), status: 'Finishing' },
      ],
    });
    expectConsistent(t);
    expect(t.chargingEndMs).toBe(at('10:40:00'));
    expect(starts(t)).toEqual(['10:00:00', '10:05:00', '10:40:00', '10:50:00'].map((h) => at(h)));
  });

  it('ignores a Charging that ended before the session started', () => {
    const t = build({
      statuses: [
        { timestamp: iso('09:00:00'), status: 'Charging' },
        { timestamp: iso('09:30:00'), status: 'Available' },
        { timestamp: iso('09:59:00'), status: 'Preparing' },
      ],
      samples: [{ timestamp: iso('10:45:00'), energyWh: '1600' }],
    });
    // No Charging in the session: the register decides.
    expect(t.chargingEndMs).toBe(at('10:45:00'));
  });

  it('without statuses, ends charging at the first reading showing the final register value', () => {
    const t = build({
      samples: [
        { timestamp: iso('10:15:00'), energyWh: '1200' },
        { timestamp: iso('10:30:00'), energyWh: '1600' },
        { timestamp: iso('10:45:00'), energyWh: '1600' },
      ],
    });
    expectConsistent(t);
    expect(t.chargingEndMs).toBe(at('10:30:00'));
    expect(t.periods.map((p) => [p.timeMs, p.parkingMs])).toEqual([
      [15 * MIN, 0],
      [15 * MIN, 0],
      [0, 15 * MIN],
      [0, 15 * MIN],
    ]);
  });

  it('without statuses, charges until the stop when the register still rose in the last interval', () => {
    const t = build({ samples: [{ timestamp: iso('10:30:00'), energyWh: '1500' }] });
    expect(t.chargingEndMs).toBe(at('11:00:00'));
    expect(t.periods.every((p) => p.parkingMs === 0)).toBe(true);
  });

  it('bills no idle time when neither statuses nor energy say when charging ended', () => {
    const t = build({
      meterStopWh: '1000',
      samples: [{ timestamp: iso('10:30:00'), energyWh: '1000' }],
      statuses: [{ timestamp: iso('10:00:01'), status: 'SuspendedEV' }],
    });
    expect(t.chargingEndMs).toBe(at('11:00:00'));
    expect(t.periods.every((p) => p.parkingMs === 0)).toBe(true);
  });
});

describe('threshold cuts', () => {
  it('cuts where the session energy crosses a threshold, and gives the period before exactly that energy', () => {
    const t = build({
      startedAt: iso('21:40:00'),
      stoppedAt: iso('22:30:00'),
      meterStartWh: '9000',
      meterStopWh: '14000',
      samples: [
        { timestamp: iso('21:50:00'), energyWh: '10000' },
        { timestamp: iso('22:10:00'), energyWh: '13700' },
      ],
      cuts: { ...noCuts, energyThresholdsMWh: [2_000_000, 0, 5_000_001, 5_000_000] },
    });
    expectConsistent(t);
    // 1000 of the segment's 3700 Wh over 20 min: 324324.3 ms after 21:50.
    expect(starts(t)).toEqual([at('21:40:00'), at('21:50:00'), at('21:50:00') + 324_324, at('22:10:00')]);
    expect(energies(t)).toEqual([1_000_000, 1_000_000, 2_700_000, 300_000]);
  });

  it('never puts a threshold cut on the last reading below the threshold', () => {
    // 1 mWh is reached 1 µs after the start: the cut goes to the first ms, carrying exactly 1 mWh.
    const t = build({
      stoppedAt: iso('10:00:01'),
      meterStartWh: '0',
      meterStopWh: '1000',
      cuts: { ...noCuts, energyThresholdsMWh: [1, 2] },
    });
    expectConsistent(t);
    expect(starts(t)).toEqual([at('10:00:00'), at('10:00:00') + 1]);
    expect(energies(t)).toEqual([2, 999_998]);
  });

  it('cuts at startedAt plus each duration inside the session', () => {
    const t = build({ cuts: { ...noCuts, durationThresholdsMs: [0, 30 * MIN, 60 * MIN, 90 * MIN] } });
    expect(starts(t)).toEqual([at('10:00:00'), at('10:30:00')]);
    expect(energies(t)).toEqual([300_000, 300_000]);
  });
});

describe('power and current', () => {
  it('takes min and max from the samples in a period, else the average power', () => {
    const t = build({
      samples: [
        { timestamp: iso('10:00:00'), powerW: '7400', currentA: '32' },
        { timestamp: iso('10:30:00'), energyWh: '1300', powerW: '3700' },
        { timestamp: iso('10:30:00'), powerW: '11000', currentA: '16' },
        { timestamp: iso('11:00:00'), powerW: '500' },
      ],
      cuts: { ...noCuts, instantsMs: [at('10:45:00')] },
    });
    expectConsistent(t);
    expect(t.periods).toEqual([
      {
        startMs: at('10:00:00'),
        energyMWh: 300_000,
        timeMs: 30 * MIN,
        parkingMs: 0,
        minPowerKw: 7.4,
        maxPowerKw: 7.4,
        minCurrentA: 32,
        maxCurrentA: 32,
      },
      {
        startMs: at('10:30:00'),
        energyMWh: 150_000,
        timeMs: 15 * MIN,
        parkingMs: 0,
        minPowerKw: 3.7,
        maxPowerKw: 11,
        minCurrentA: 16,
        maxCurrentA: 16,
      },
      // The reading taken at the stop belongs to the last period.
      {
        startMs: at('10:45:00'),
        energyMWh: 150_000,
        timeMs: 15 * MIN,
        parkingMs: 0,
        minPowerKw: 0.5,
        maxPowerKw: 0.5,
      },
    ]);
  });

  it('falls back to the average power over the period', () => {
    const t = build({ cuts: { ...noCuts, instantsMs: [at('10:45:00')] }, meterStopWh: '1444' });
    // 333 Wh in 45 min = 0.444 kW; 111 Wh in 15 min = 0.444 kW.
    expect(t.periods.map((p) => [p.minPowerKw, p.maxPowerKw])).toEqual([
      [0.444, 0.444],
      [0.444, 0.444],
    ]);
    expect(t.periods[0].minCurrentA).toBeUndefined();
  });
});

describe('properties', () => {
  const START = at('00:00:00');

  /** A consistent session: increasing register readings between the anchors, in random order, some repeated. */
  const validSession = fc
    .record({
      lengthMs: fc.integer({ min: 1, max: 3 * 86_400_000 }),
      meterStart: fc.integer({ min: 0, max: 1e12 }),
      energy: fc.integer({ min: 0, max: 2e8 }),
      readings: fc.array(
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
        {
          maxLength: 40,
        },
      ),
      order: fc.array(fc.integer(), { maxLength: 80 }),
      repeats: fc.array(fc.nat(), { maxLength: 5 }),
      instants: fc.array(fc.integer({ min: -1000, max: 3 * 86_400_000 + 1000 }), { maxLength: 25 }),
      thresholds: fc.array(fc.integer({ min: -10, max: 2e8 + 10 }), { maxLength: 5 }),
      durations: fc.array(fc.integer({ min: -10, max: 3 * 86_400_000 }), { maxLength: 5 }),
      statuses: fc.array(
        fc.tuple(
          fc.integer({ min: -60_000, max: 3 * 86_400_000 + 60_000 }),
          fc.constantFrom('Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Preparing'),
        ),
        { maxLength: 6 },
      ),
    })
    .map((g) => {
      const milli = (mwh: number) => `${Math.floor(mwh / 1000)}.${String(mwh % 1000).padStart(3, '0')}`;
      const timed = g.readings
        .map(([t, e]) => [Math.floor(t * g.lengthMs), Math.floor(e * g.energy)] as const)
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      // Same instant, same value: a later reading at one instant must not differ from an earlier one.
      const clean = timed.filter((r, i) => i === 0 || r[0] !== timed[i - 1][0]);
      const energiesSorted = clean.map((r) => r[1]).sort((a, b) => a - b);
      let samples: RawSample[] = clean.map(([t], i) => ({
        timestamp: new Date(START + t).toISOString(),
        energyWh: milli(g.meterStart + (t === 0 ? 0 : t === g.lengthMs ? g.energy : energiesSorted[i])),
        powerW: String(i * 100),
      }));
      for (const r of g.repeats) if (samples.length > 0) samples.push(samples[r % samples.length]);
      const keys = samples.map((_, i) => g.order[i] ?? i);
      samples = samples
        .map((s, i) => [keys[i], s] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([, s]) => s);
      const input: TimelineInput = {
        startedAt: new Date(START).toISOString(),
        stoppedAt: new Date(START + g.lengthMs).toISOString(),
        meterStartWh: milli(g.meterStart),
        meterStopWh: milli(g.meterStart + g.energy),
        samples,
        statuses: g.statuses.map(([t, status]) => ({ timestamp: new Date(START + t).toISOString(), status })),
        cuts: {
          instantsMs: g.instants.map((t) => START + t),
          energyThresholdsMWh: g.thresholds,
          durationThresholdsMs: g.durations,
        },
      };
      return { input, energy: g.energy };
    });

  it('sums period energies to stop - start, with contiguous ordered periods covering the session', () => {
    fc.assert(
      fc.property(validSession, ({ input, energy }) => {
        const t = buildTimeline(input);
        expect(t.rejected).toEqual([]);
        expect(t.energyMWh).toBe(energy);
        expectConsistent(t);
        for (let i = 1; i < t.periods.length; i++) {
          expect(t.periods[i].startMs).toBeGreaterThan(t.periods[i - 1].startMs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the totals whatever is wrong with the readings', () => {
    const junk = fc.record(
      {
        timestamp: fc.oneof(
          fc
            .integer({ min: -100_000, max: 3_700_000 })
            .map((t) => new Date(at('10:00:00') + t).toISOString()),
          fc.constantFrom('', 'now', '2024-05-01T10:30:00', '2024-13-01T10:00:00Z'),
        ),
        energyWh: fc.oneof(
          fc.integer({ min: 0, max: 3_000_000 }).map((m) => (m / 1000).toFixed(3)),
          fc.constantFrom('x', '-5', '1e3', '1600.0000001'),
        ),
        powerW: fc.constantFrom('7000', '-1', 'abc'),
      },
      { requiredKeys: ['timestamp'] },
    );
    fc.assert(
      fc.property(
        fc.array(junk, { maxLength: 30 }),
        fc.constantFrom('1000', '2000.5', '900', 'bad'),
        (samples, stop) => {
          const t = build({ samples, meterStopWh: stop });
          expectConsistent(t);
          const expected = stop === '2000.5' ? 1_000_500 : stop === '1000' || stop === '900' ? 0 : undefined;
          if (expected !== undefined) expect(t.energyMWh).toBe(expected);
          // Whatever was received, the outcome does not depend on the order it arrived in.
          expect(build({ samples: [...samples].reverse(), meterStopWh: stop })).toEqual(t);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads RFC 3339 timestamps as Date does, whatever the offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -62_000_000_000_000, max: 253_000_000_000_000 }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (ms, offsetMin) => {
          const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, -1);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const t = buildTimeline({
            startedAt: local + zone,
            stoppedAt: new Date(ms).toISOString(),
            meterStartWh: '0',
            meterStopWh: '0',
            samples: [],
            statuses: [],
            cuts: noCuts,
          });
          expect(t.sessionStartMs).toBe(ms);
          expect(t.sessionStartMs).toBe(Date.parse(local + zone));
        },
      ),
      { numRuns: 500 },
    );
  });
});
