import { extractReadings, MeterValue, meterValuesProblem } from '../../ocpp/billing/meter-values';

const NOW = new Date('2026-11-23T12:00:00Z');
const mv = (timestamp: string, ...sampledValue: MeterValue['sampledValue']): MeterValue => ({
  timestamp,
  sampledValue,
});

describe('MeterValues checks before anything reaches a session', () => {
  it('accepts plain, signed and unbilled values, and a clock a few minutes fast', () => {
    expect(
      meterValuesProblem(
        [
          mv(
            '2026-11-23T11:55:00Z',
            { value: '1200.5', unit: 'kWh' },
            { value: '7000', measurand: 'Power.Active.Import' },
          ),
          mv('2026-11-23T12:05:00Z', { value: '1201', unit: 'kWh' }, { value: '80', measurand: 'SoC' }),
          mv(
            '2026-11-23T12:05:00Z',
            { value: 'AB==', format: 'SignedData' },
            { value: 'x', measurand: 'Temperature' },
          ),
        ],
        NOW,
      ),
    ).toBeNull();
  });

  it.each([
    ['a non-numeric register', [mv('2026-11-23T11:00:00Z', { value: 'abc' })], 'is not a number'],
    ['NaN', [mv('2026-11-23T11:00:00Z', { value: 'NaN' })], 'is not a number'],
    [
      'Infinity power',
      [mv('2026-11-23T11:00:00Z', { value: 'Infinity', measurand: 'Power.Active.Import' })],
      'is not a number',
    ],
    ['a negative register', [mv('2026-11-23T11:00:00Z', { value: '-1' })], 'out of range'],
    ['SoC above 100', [mv('2026-11-23T11:00:00Z', { value: '101', measurand: 'SoC' })], 'out of range'],
    ['a timestamp an hour ahead', [mv('2026-11-23T13:00:00Z', { value: '1' })], 'in the future'],
    [
      'a register going backwards within the message, in any order of entries',
      [
        mv('2026-11-23T11:10:00Z', { value: '5', unit: 'kWh' }),
        mv('2026-11-23T11:00:00Z', { value: '5001' }),
      ],
      'goes backwards',
    ],
  ])('refuses %s, naming the value', (_, values, problem) => {
    expect(meterValuesProblem(values, NOW)).toContain(problem);
  });

  it('extracts energy, power, summed phase current and SoC in base units', () => {
    expect(
      extractReadings([
        mv(
          '2026-11-23T11:00:00+01:00',
          { value: '12.5', unit: 'kWh' },
          { value: '7.2', measurand: 'Power.Active.Import', unit: 'kW' },
          { value: '10', measurand: 'Current.Import', phase: 'L1' },
          { value: '11', measurand: 'Current.Import', phase: 'L2' },
          { value: '42', measurand: 'SoC' },
        ),
      ]),
    ).toEqual([
      { timestamp: '2026-11-23T10:00:00.000Z', energyWh: '12500', powerW: '7200', currentA: '21', soc: '42' },
    ]);
  });
});
