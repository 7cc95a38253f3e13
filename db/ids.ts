import { randomBytes } from 'node:crypto';

// Time-ordered ids (ULID layout, Crockford base32) so cursor pagination can order by id.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i] % 32];
  return out;
}

export type IdPrefix =
  | 'org'
  | 'key'
  | 'usr'
  | 'tag'
  | 'prj'
  | 'site'
  | 'cp'
  | 'tar'
  | 'tarv'
  | 'tas'
  | 'ses'
  | 'rcpt'
  | 'pay'
  | 'evt'
  | 'rule'
  | 'rulev'
  | 'promo'
  | 'proma'
  | 'promr'
  | 'orph'
  | 'cmd'
  | 'mem'
  | 'exm'
  | 'cn'
  | 'inv'
  | 'rp'
  | 'rss'
  | 'stmt'
  | 'po'
  | 'we'
  | 'whsec'
  | 'whd'
  | 're'
  | 'dp'
  | 'recon'
  | 'aud'
  | 'hp'
  | 'mv'
  | 'debt'
  | 'pa'
  | 'wal'
  | 'wle'
  | 'wcr';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom()}`;
}
