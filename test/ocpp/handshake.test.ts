import { offersSubprotocol, parseBasicAuth, parseIdentity } from '../../ocpp/handshake';

describe('parseIdentity', () => {
  it('reads and URL-decodes the segment after the route', () => {
    expect(parseIdentity('/ocpp/CP1', '/ocpp')).toEqual({ ok: true, identity: 'CP1' });
    expect(parseIdentity('/ocpp/CP%201%2Fb?x=1', '/ocpp')).toEqual({ ok: true, identity: 'CP 1/b' });
  });

  it('accepts 48 characters and refuses 49', () => {
    expect(parseIdentity(`/ocpp/${'a'.repeat(48)}`, '/ocpp')).toMatchObject({ ok: true });
    expect(parseIdentity(`/ocpp/${'a'.repeat(49)}`, '/ocpp')).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses other paths, extra segments and bad encoding', () => {
    expect(parseIdentity('/other/CP1', '/ocpp')).toMatchObject({ ok: false, status: 404 });
    expect(parseIdentity('/ocppX/CP1', '/ocpp')).toMatchObject({ ok: false, status: 404 });
    expect(parseIdentity('/ocpp/', '/ocpp')).toMatchObject({ ok: false, status: 404 });
    expect(parseIdentity('/ocpp/a/b', '/ocpp')).toMatchObject({ ok: false, status: 404 });
    expect(parseIdentity('/ocpp/%E0%A4%A', '/ocpp')).toMatchObject({ ok: false, status: 400 });
    expect(parseIdentity(undefined, '/ocpp')).toMatchObject({ ok: false, status: 404 });
  });
});

describe('offersSubprotocol', () => {
  it('finds ocpp1.6 in a comma-separated list only as a whole token', () => {
    expect(offersSubprotocol('ocpp2.0.1, ocpp1.6', 'ocpp1.6')).toBe(true);
    expect(offersSubprotocol('ocpp1.6j', 'ocpp1.6')).toBe(false);
    expect(offersSubprotocol(undefined, 'ocpp1.6')).toBe(false);
  });
});

describe('parseBasicAuth', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('splits at the first colon so passwords may contain colons', () => {
    expect(parseBasicAuth(`Basic ${b64('CP1:pa:ss')}`)).toEqual({
      kind: 'basic',
      username: 'CP1',
      password: 'pa:ss',
    });
  });

  it('tells a missing header from a malformed one', () => {
    expect(parseBasicAuth(undefined)).toEqual({ kind: 'none' });
    expect(parseBasicAuth('Bearer abc')).toEqual({ kind: 'malformed' });
    expect(parseBasicAuth(`Basic ${b64('no-colon')}`)).toEqual({ kind: 'malformed' });
  });
});
