import { csvField, csvRow } from '../../api/csv';

describe('CSV fields', () => {
  it('quotes what needs it and doubles quotes, as RFC 4180 has it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('-1.50')).toBe('-1.50');
    expect(csvField(null)).toBe('');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "no"')).toBe('"say ""no"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvRow(['x', null, 3])).toBe('x,,3\r\n');
  });
});
