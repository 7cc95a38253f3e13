import { newId } from '../../db/ids';
import { findPromotionForQuote } from '../../db/repositories/promotionalCodes';
import {
  applyCodeToSession,
  applyCodeToUser,
  PromotionError,
} from '../../db/repositories/promotionApplications';
import {
  findApplicablePromotion,
  getRedemptionForSession,
  recordRedemptionAmount,
  redeemPromotion,
  RedemptionResult,
} from '../../db/repositories/promotionRedemptions';
import { createSiteFor, expectError, Harness, Json, startHarness, tableCounts, Tenant } from './helpers';

let h: Harness;
let acme: Tenant;
let globex: Tenant;
const chargePoints = new Map<string, string>();

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS);

beforeAll(async () => {
  h = await startHarness('promotions');
  acme = await h.tenant('Acme');
  globex = await h.tenant('Globex');
  for (const [tenant, identity] of [
    [acme, 'CP-PROMO-A'],
    [globex, 'CP-PROMO-G'],
  ] as const) {
    const { site } = await createSiteFor(tenant);
    const cp = await tenant.call('POST', '/charge-points', {
      body: { identity, site_id: site.id, hold_amount: '40' },
    });
    chargePoints.set(tenant.org.id, cp.body.id);
  }
});
afterAll(() => h.close());

let seq = 0;

async function newUser(t: Tenant = acme): Promise<string> {
  const res = await t.call('POST', '/users', {
    body: { email: `driver${++seq}@example.com`, name: 'Dana Driver', user_type: 'public' },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A session row as the session workflow writes it. */
async function insertSession(
  userId: string | null,
  opts: { tenant?: Tenant; status?: string; currency?: string; idTag?: string } = {},
): Promise<string> {
  const tenant = opts.tenant ?? acme;
  const id = newId('ses');
  await h.db('charging_sessions').insert({
    id,
    organization_id: tenant.org.id,
    charge_point_id: chargePoints.get(tenant.org.id),
    connector_id: 1,
    id_tag: opts.idTag ?? 'TAG-NONE',
    user_id: userId,
    status: opts.status ?? 'active',
    currency: opts.currency ?? 'EUR',
    meter_start_wh: '0',
    started_at: new Date(Date.UTC(2026, 10, 1) + ++seq * 1000),
    workflow_id: `wf-${id}`,
  });
  return id;
}

async function createCode(body: Record<string, unknown>, t: Tenant = acme): Promise<Json> {
  const res = await t.call('POST', '/promotional-codes', { body });
  expect(res.status).toBe(201);
  return res.body;
}

let codeSeq = 0;
const uniqueCode = (prefix: string) => `${prefix}${++codeSeq}`;

const percentCode = (extra: Record<string, unknown> = {}) =>
  createCode({ code: uniqueCode('PCT'), discount_type: 'percent', discount_value: 10, ...extra });

const codeRow = (id: string) => h.db('promotional_codes').where({ id }).first();

async function expectRefusal(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PromotionError);
  expect((err as PromotionError).code).toBe(code);
}

describe('POST /promotional-codes', () => {
  it('creates the code of the product spec and reads it back', async () => {
    const res = await acme.call('POST', '/promotional-codes', {
      body: {
        code: 'WELCOME20',
        discount_type: 'percent',
        discount_value: 20,
        max_uses: 500,
        expires_at: '2099-12-31T23:59:59Z',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'promotional_code',
      id: expect.stringMatching(/^promo_[0-9A-Z]{26}$/),
      code: 'WELCOME20',
      discount_type: 'percent',
      discount_value: '20',
      currency: null,
      max_uses: 500,
      times_redeemed: 0,
      expires_at: '2099-12-31T23:59:59.000Z',
      allow_multiple_uses_per_user: false,
      active: true,
      created_at: expect.any(String),
    });
    expect((await acme.call('GET', `/promotional-codes/${res.body.id}`)).body).toEqual(res.body);
    expectError(await globex.call('GET', `/promotional-codes/${res.body.id}`), 404, null, 'resource_missing');
  });

  it('answers an amount in its currency and free sessions as a count', async () => {
    const amount = await createCode({
      code: 'FIVEOFF',
      discount_type: 'amount',
      discount_value: '5',
      currency: 'EUR',
      allow_multiple_uses_per_user: true,
    });
    expect(amount).toMatchObject({
      discount_value: '5.00',
      currency: 'EUR',
      allow_multiple_uses_per_user: true,
    });
    const yen = await createCode({
      code: 'YEN500',
      discount_type: 'amount',
      discount_value: 500,
      currency: 'JPY',
    });
    expect(yen.discount_value).toBe('500');
    const free = await createCode({ code: 'FREE3', discount_type: 'free_sessions', discount_value: '3' });
    expect(free).toMatchObject({ discount_value: '3', currency: null, max_uses: null });
  });

  it('refuses a code that exists in any case, but not one of another organization', async () => {
    await createCode({ code: 'Summer-26', discount_type: 'percent', discount_value: 15 });
    const before = await tableCounts(h.db);
    const dup = await acme.call('POST', '/promotional-codes', {
      body: { code: 'SUMMER-26', discount_type: 'amount', discount_value: 1, currency: 'EUR' },
    });
    expectError(dup, 409, 'code', 'resource_already_exists');
    expect(await tableCounts(h.db)).toEqual(before);
    await createCode({ code: 'summer-26', discount_type: 'percent', discount_value: 15 }, globex);
  });

  describe('refuses bad input, naming the field and writing nothing', () => {
    let before: Record<string, number>;
    beforeEach(async () => {
      before = await tableCounts(h.db);
    });
    afterEach(async () => {
      expect(await tableCounts(h.db)).toEqual(before);
    });

    const ok = { code: 'GOODCODE', discount_type: 'percent', discount_value: 10 };
    const amount = { code: 'GOODCODE', discount_type: 'amount', discount_value: '2.50', currency: 'EUR' };
    it.each<[string, unknown, string, string]>([
      ['a body that is not an object', [ok], 'body', 'parameter_invalid'],
      ['an unknown field', { ...ok, discount: 5 }, 'discount', 'parameter_unknown'],
      ['no code', { ...ok, code: undefined }, 'code', 'parameter_missing'],
      ['a code of 2 characters', { ...ok, code: 'AB' }, 'code', 'parameter_invalid'],
      ['a code of 41 characters', { ...ok, code: 'A'.repeat(41) }, 'code', 'parameter_invalid'],
      ['a code with a space', { ...ok, code: 'WELCOME 20' }, 'code', 'parameter_invalid'],
      ['a code as a number', { ...ok, code: 12345 }, 'code', 'parameter_invalid'],
      ['no discount_type', { ...ok, discount_type: undefined }, 'discount_type', 'parameter_missing'],
      ['an unknown discount_type', { ...ok, discount_type: 'bogo' }, 'discount_type', 'parameter_invalid'],
      ['no discount_value', { ...ok, discount_value: undefined }, 'discount_value', 'parameter_missing'],
      ['a percent of 0', { ...ok, discount_value: 0 }, 'discount_value', 'parameter_invalid'],
      ['a percent above 100', { ...ok, discount_value: '100.01' }, 'discount_value', 'parameter_invalid'],
      ['a negative percent', { ...ok, discount_value: -5 }, 'discount_value', 'parameter_invalid'],
      [
        'a percent that is not a number',
        { ...ok, discount_value: 'ten' },
        'discount_value',
        'parameter_invalid',
      ],
      ['a percent with a currency', { ...ok, currency: 'EUR' }, 'currency', 'parameter_invalid'],
      ['an amount without currency', { ...amount, currency: undefined }, 'currency', 'parameter_missing'],
      ['an amount in lower-case currency', { ...amount, currency: 'eur' }, 'currency', 'parameter_invalid'],
      ['an amount in an unknown currency', { ...amount, currency: 'EUT' }, 'currency', 'parameter_invalid'],
      [
        'an amount below the minor unit',
        { ...amount, discount_value: '2.505' },
        'discount_value',
        'parameter_invalid',
      ],
      ['an amount of 0', { ...amount, discount_value: '0.00' }, 'discount_value', 'parameter_invalid'],
      [
        'a fraction of a free session',
        { ...ok, discount_type: 'free_sessions', discount_value: 1.5 },
        'discount_value',
        'parameter_invalid',
      ],
      [
        'zero free sessions',
        { ...ok, discount_type: 'free_sessions', discount_value: 0 },
        'discount_value',
        'parameter_invalid',
      ],
      ['max_uses 0', { ...ok, max_uses: 0 }, 'max_uses', 'parameter_invalid'],
      ['max_uses as a string', { ...ok, max_uses: '5' }, 'max_uses', 'parameter_invalid'],
      ['a fractional max_uses', { ...ok, max_uses: 2.5 }, 'max_uses', 'parameter_invalid'],
      [
        'expires_at without a zone',
        { ...ok, expires_at: '2099-01-01T00:00:00' },
        'expires_at',
        'parameter_invalid',
      ],
      [
        'expires_at in the past',
        { ...ok, expires_at: '2020-01-01T00:00:00Z' },
        'expires_at',
        'parameter_invalid',
      ],
      [
        'allow_multiple_uses_per_user as a string',
        { ...ok, allow_multiple_uses_per_user: 'yes' },
        'allow_multiple_uses_per_user',
        'parameter_invalid',
      ],
    ])('%s', async (_label, body, param, code) => {
      expectError(await acme.call('POST', '/promotional-codes', { body }), 400, param, code);
    });
  });
});

describe('GET /promotional-codes and deactivation', () => {
  it('pages through the codes and filters by active', async () => {
    const t = await h.tenant('Paging');
    const ids: string[] = [];
    for (const code of ['PAGE1', 'PAGE2', 'PAGE3']) {
      ids.push((await createCode({ code, discount_type: 'percent', discount_value: 5 }, t)).id);
    }
    const first = await t.call('GET', '/promotional-codes?limit=2');
    expect(first.body).toMatchObject({ object: 'list', has_more: true, next_cursor: ids[1] });
    expect(first.body.data.map((c: Json) => c.id)).toEqual(ids.slice(0, 2));
    const second = await t.call('GET', `/promotional-codes?limit=2&starting_after=${first.body.next_cursor}`);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.body.data.map((c: Json) => c.id)).toEqual([ids[2]]);

    const off = await t.call('POST', `/promotional-codes/${ids[1]}/deactivate`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: ids[1], active: false });
    // Deactivating again is harmless.
    expect((await t.call('POST', `/promotional-codes/${ids[1]}/deactivate`)).body.active).toBe(false);
    const active = await t.call('GET', '/promotional-codes?active=true');
    expect(active.body.data.map((c: Json) => c.id)).toEqual([ids[0], ids[2]]);
    const inactive = await t.call('GET', '/promotional-codes?active=false');
    expect(inactive.body.data.map((c: Json) => c.id)).toEqual([ids[1]]);
    expectError(await t.call('GET', '/promotional-codes?active=yes'), 400, 'active', 'parameter_invalid');
    expect(
      (await acme.call('GET', '/promotional-codes?limit=100')).body.data.map((c: Json) => c.id),
    ).not.toContain(ids[0]);
  });

  it("refuses to deactivate another organization's code, or with a body", async () => {
    const code = await percentCode();
    expectError(
      await globex.call('POST', `/promotional-codes/${code.id}/deactivate`),
      404,
      null,
      'resource_missing',
    );
    expectError(
      await acme.call('POST', `/promotional-codes/${code.id}/deactivate`, { body: { active: false } }),
      400,
      'active',
      'parameter_unknown',
    );
    expect((await codeRow(code.id)).active).toBe(true);
  });
});

describe('applying a code to an account', () => {
  it('applies case-insensitively and refuses a second application, then a second use', async () => {
    const code = await percentCode();
    const userId = await newUser();
    const res = await acme.call('POST', `/users/${userId}/promotional-codes`, {
      body: { code: code.code.toLowerCase() },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      object: 'promotion_application',
      id: expect.stringMatching(/^proma_/),
      promotional_code_id: code.id,
      code: code.code,
      discount_type: 'percent',
      discount_value: '10',
      currency: null,
      user_id: userId,
      session_id: null,
      free_sessions_left: null,
      status: 'active',
      applied_at: expect.any(String),
    });
    const again = await acme.call('POST', `/users/${userId}/promotional-codes`, {
      body: { code: code.code },
    });
    expectError(again, 409, 'code', 'promotional_code_already_applied');

    const sessionId = await insertSession(userId);
    const redeemed = await redeemPromotion(h.db, {
      promotionalCodeId: code.id,
      userId,
      sessionId,
      at: new Date(),
    });
    expect(redeemed.redeemed).toBe(true);
    const afterUse = await acme.call('POST', `/users/${userId}/promotional-codes`, {
      body: { code: code.code },
    });
    expectError(afterUse, 409, 'code', 'promotional_code_already_used');
  });

  it('refuses an unknown, inactive, expired or exhausted code with its own error code', async () => {
    const userId = await newUser();
    const apply = (code: string) =>
      acme.call('POST', `/users/${userId}/promotional-codes`, { body: { code } });
    expectError(await apply('NOSUCHCODE'), 422, 'code', 'promotional_code_unknown');
    // Another organization's code is unknown here.
    const foreign = await createCode(
      { code: 'GLOBEXONLY', discount_type: 'percent', discount_value: 5 },
      globex,
    );
    expectError(await apply(foreign.code), 422, 'code', 'promotional_code_unknown');

    const inactive = await percentCode();
    await acme.call('POST', `/promotional-codes/${inactive.id}/deactivate`);
    expectError(await apply(inactive.code), 422, 'code', 'promotional_code_inactive');

    const expired = await percentCode({ expires_at: inDays(1).toISOString() });
    await h
      .db('promotional_codes')
      .where({ id: expired.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expectError(await apply(expired.code), 422, 'code', 'promotional_code_expired');

    const single = await percentCode({ max_uses: 1 });
    const otherUser = await newUser();
    await applyCodeToUser(h.db, acme.org.id, otherUser, single.code, new Date());
    const sessionId = await insertSession(otherUser);
    await redeemPromotion(h.db, {
      promotionalCodeId: single.id,
      userId: otherUser,
      sessionId,
      at: new Date(),
    });
    expectError(await apply(single.code), 422, 'code', 'promotional_code_exhausted');
    expect(await h.db('promotion_applications').where({ user_id: userId }).count('* as n')).toEqual([
      { n: 0 },
    ]);
  });

  it('checks expiry at the instant given', async () => {
    const expiresAt = inDays(10);
    const code = await percentCode({ expires_at: expiresAt.toISOString() });
    const userId = await newUser();
    await expectRefusal(
      applyCodeToUser(h.db, acme.org.id, userId, code.code, expiresAt),
      'promotional_code_expired',
    );
    const application = await applyCodeToUser(
      h.db,
      acme.org.id,
      userId,
      code.code,
      new Date(expiresAt.getTime() - 1),
    );
    expect(application.status).toBe('active');
  });

  it('lets a driver apply a code again when it allows multiple uses', async () => {
    const code = await percentCode({ allow_multiple_uses_per_user: true });
    const userId = await newUser();
    for (let i = 0; i < 2; i++) {
      const res = await acme.call('POST', `/users/${userId}/promotional-codes`, {
        body: { code: code.code },
      });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 2; i++) {
      const sessionId = await insertSession(userId);
      const result = await redeemPromotion(h.db, {
        promotionalCodeId: code.id,
        userId,
        sessionId,
        at: new Date(),
      });
      expect(result.redeemed).toBe(true);
    }
    expect((await codeRow(code.id)).times_redeemed).toBe(2);
  });

  it("answers 404 for another organization's user and 400 for a bad body, writing nothing", async () => {
    const code = await percentCode();
    const foreignUser = await newUser(globex);
    const userId = await newUser();
    const before = await tableCounts(h.db);
    expectError(
      await acme.call('POST', `/users/${foreignUser}/promotional-codes`, { body: { code: code.code } }),
      404,
      null,
      'resource_missing',
    );
    expectError(
      await acme.call('POST', `/users/${userId}/promotional-codes`, { body: {} }),
      400,
      'code',
      'parameter_missing',
    );
    expectError(
      await acme.call('POST', `/users/${userId}/promotional-codes`, {
        body: { code: code.code, session_id: 'x' },
      }),
      400,
      'session_id',
      'parameter_unknown',
    );
    expectError(
      await acme.call('POST', `/users/${userId}/promotional-codes`, { body: { code: 'NO WAY' } }),
      400,
      'code',
      'parameter_invalid',
    );
    expect(await tableCounts(h.db)).toEqual(before);
  });
});

describe('applying a code at session start', () => {
  it('binds the code to the session, which then gets it before any account code', async () => {
    const accountCode = await percentCode();
    const sessionCode = await createCode({
      code: uniqueCode('AMT'),
      discount_type: 'amount',
      discount_value: '3',
      currency: 'EUR',
    });
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, accountCode.code, new Date());
    const sessionId = await insertSession(userId, { status: 'starting' });
    const res = await acme.call('POST', `/sessions/${sessionId}/promotional-codes`, {
      body: { code: sessionCode.code },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      promotional_code_id: sessionCode.id,
      user_id: userId,
      session_id: sessionId,
      discount_value: '3.00',
      currency: 'EUR',
    });
    expect(await findApplicablePromotion(h.db, { userId, sessionId, at: new Date() })).toEqual({
      promotionalCodeId: sessionCode.id,
      code: sessionCode.code,
      discountType: 'amount',
      discountValue: '3',
      currency: 'EUR',
    });
    // Another session of the driver gets the account code; the bound one is not theirs to take.
    const other = await insertSession(userId);
    expect(await findApplicablePromotion(h.db, { userId, sessionId: other, at: new Date() })).toMatchObject({
      promotionalCodeId: accountCode.id,
    });
    const second = await acme.call('POST', `/sessions/${sessionId}/promotional-codes`, {
      body: { code: (await percentCode()).code },
    });
    expectError(second, 409, null, 'session_promotion_exists');
  });

  it('finds the driver of a session still starting from its id tag', async () => {
    const userId = await newUser();
    await acme.call('POST', '/id-tags', { body: { id_tag: 'PROMO-TAG-1', user_id: userId, type: 'app' } });
    const sessionId = await insertSession(null, { status: 'starting', idTag: 'PROMO-TAG-1' });
    const code = await percentCode();
    const res = await acme.call('POST', `/sessions/${sessionId}/promotional-codes`, {
      body: { code: code.code },
    });
    expect(res.status).toBe(201);
    expect(res.body.user_id).toBe(userId);
  });

  it('refuses closed sessions, sessions without a driver, a foreign session and a currency mismatch', async () => {
    const code = await percentCode();
    const userId = await newUser();
    const before = await tableCounts(h.db);
    const apply = (sessionId: string, as: Tenant = acme, c: string = code.code) =>
      as.call('POST', `/sessions/${sessionId}/promotional-codes`, { body: { code: c } });
    expectError(
      await apply(await insertSession(userId, { status: 'completed' })),
      422,
      null,
      'session_not_open',
    );
    expectError(
      await apply(await insertSession(userId, { status: 'unbilled' })),
      422,
      null,
      'session_not_open',
    );
    expectError(
      await apply(await insertSession(null, { status: 'starting' })),
      422,
      null,
      'session_has_no_user',
    );
    const foreign = await insertSession(await newUser(globex), { tenant: globex });
    expectError(await apply(foreign), 404, null, 'resource_missing');
    expectError(await apply('ses_nope'), 404, null, 'resource_missing');
    const usd = await createCode({
      code: uniqueCode('USD'),
      discount_type: 'amount',
      discount_value: 2,
      currency: 'USD',
    });
    const eurSession = await insertSession(userId, { currency: 'EUR' });
    expectError(await apply(eurSession, acme, usd.code), 422, 'code', 'promotional_code_currency_mismatch');
    // Rows for the sessions and codes set up above only: no application was written.
    const after = await tableCounts(h.db);
    expect(after.promotion_applications).toBe(before.promotion_applications);
  });
});

describe('redeemPromotion', () => {
  async function appliedCode(extra: Record<string, unknown> = {}) {
    const code = await percentCode(extra);
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    return { code, userId };
  }

  it('redeems an applied code once per session and marks the application used up', async () => {
    const { code, userId } = await appliedCode({ max_uses: 10 });
    const sessionId = await insertSession(userId);
    const at = new Date();
    const first = await redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId, at });
    expect(first).toEqual({
      redeemed: true,
      redemptionId: expect.stringMatching(/^promr_/),
      applicationId: expect.stringMatching(/^proma_/),
      promotionalCodeId: code.id,
      code: code.code,
      discountType: 'percent',
      discountValue: '10',
      currency: null,
    });
    // A retry (even a later one) answers the first redemption and counts nothing twice.
    const retry = await redeemPromotion(h.db, {
      promotionalCodeId: code.id,
      userId,
      sessionId,
      at: new Date(at.getTime() + DAY_MS),
    });
    expect(retry).toEqual(first);
    // A session redeems one code: asking again with another applied code answers the first redemption.
    const other = await percentCode();
    await applyCodeToUser(h.db, acme.org.id, userId, other.code, at);
    expect(await redeemPromotion(h.db, { promotionalCodeId: other.id, userId, sessionId, at })).toEqual(
      first,
    );
    expect((await codeRow(other.id)).times_redeemed).toBe(0);
    expect((await codeRow(code.id)).times_redeemed).toBe(1);
    expect(
      await h.db('promotion_applications').where({ user_id: userId }).orderBy('applied_at').select('status'),
    ).toEqual([{ status: 'used_up' }, { status: 'active' }]);
    // The session still finds its code once the application is used up, so a retried caller prices it the same.
    expect(await findApplicablePromotion(h.db, { userId, sessionId, at })).toMatchObject({
      promotionalCodeId: code.id,
    });
    const next = await insertSession(userId);
    expect(await findApplicablePromotion(h.db, { userId, sessionId: next, at })).toMatchObject({
      promotionalCodeId: other.id,
    });
    expect(await redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId: next, at })).toEqual({
      redeemed: false,
      reason: 'not_applied',
    });
  });

  it('refuses a code not applied, deactivated or expired at the instant given', async () => {
    const userId = await newUser();
    const notApplied = await percentCode();
    const sessionId = await insertSession(userId);
    const redeem = (promotionalCodeId: string, at = new Date()) =>
      redeemPromotion(h.db, { promotionalCodeId, userId, sessionId, at });
    expect(await redeem(notApplied.id)).toEqual({ redeemed: false, reason: 'not_applied' });

    const deactivated = await appliedCode();
    const s2 = await insertSession(deactivated.userId);
    await acme.call('POST', `/promotional-codes/${deactivated.code.id}/deactivate`);
    expect(
      await redeemPromotion(h.db, {
        promotionalCodeId: deactivated.code.id,
        userId: deactivated.userId,
        sessionId: s2,
        at: new Date(),
      }),
    ).toEqual({ redeemed: false, reason: 'inactive' });

    const expiresAt = inDays(5);
    const expiring = await appliedCode({ expires_at: expiresAt.toISOString() });
    const s3 = await insertSession(expiring.userId);
    const input = { promotionalCodeId: expiring.code.id, userId: expiring.userId, sessionId: s3 };
    expect(await findApplicablePromotion(h.db, { ...input, at: expiresAt })).toBeNull();
    expect(await redeemPromotion(h.db, { ...input, at: expiresAt })).toEqual({
      redeemed: false,
      reason: 'expired',
    });
    // Refusals write nothing: the application is still there for a session in time.
    expect((await redeemPromotion(h.db, { ...input, at: new Date() })).redeemed).toBe(true);
    expect((await codeRow(expiring.code.id)).times_redeemed).toBe(1);
  });

  it('spends a free_sessions code over several sessions as one use', async () => {
    const code = await createCode({
      code: uniqueCode('FREE'),
      discount_type: 'free_sessions',
      discount_value: 2,
      max_uses: 1,
    });
    const userId = await newUser();
    const application = await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    expect(application.freeSessionsLeft).toBe(2);
    const results: RedemptionResult[] = [];
    for (let i = 0; i < 3; i++) {
      const sessionId = await insertSession(userId);
      results.push(
        await redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId, at: new Date() }),
      );
    }
    expect(results.map((r) => r.redeemed)).toEqual([true, true, false]);
    expect(results[2]).toEqual({ redeemed: false, reason: 'not_applied' });
    expect((await codeRow(code.id)).times_redeemed).toBe(1);
    expect(await h.db('promotion_applications').where({ id: application.id }).first()).toMatchObject({
      free_sessions_left: 0,
      status: 'used_up',
    });
  });

  it('records the amount a redemption discounted', async () => {
    const { code, userId } = await appliedCode();
    const sessionId = await insertSession(userId);
    const result = await redeemPromotion(h.db, {
      promotionalCodeId: code.id,
      userId,
      sessionId,
      at: new Date(),
    });
    if (!result.redeemed) throw new Error('expected a redemption');
    expect((await getRedemptionForSession(h.db, sessionId))?.amountDiscounted).toBeNull();
    expect(await recordRedemptionAmount(h.db, result.redemptionId, '2.50')).toBe(true);
    expect(await getRedemptionForSession(h.db, sessionId)).toMatchObject({
      id: result.redemptionId,
      sessionId,
      amountDiscounted: '2.5',
    });
    await expect(recordRedemptionAmount(h.db, result.redemptionId, '-1')).rejects.toThrow(RangeError);
    expect(await recordRedemptionAmount(h.db, 'promr_nope', '1')).toBe(false);
  });
});

describe('concurrency', () => {
  it('20 concurrent redemptions of a code with max_uses 5 redeem exactly 5', async () => {
    const code = await percentCode({ max_uses: 5 });
    const drivers: Array<{ userId: string; sessionId: string }> = [];
    for (let i = 0; i < 20; i++) {
      const userId = await newUser();
      await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
      drivers.push({ userId, sessionId: await insertSession(userId) });
    }
    const at = new Date();
    const results = await Promise.all(
      drivers.map((d) => redeemPromotion(h.db, { promotionalCodeId: code.id, ...d, at })),
    );
    expect(results.filter((r) => r.redeemed)).toHaveLength(5);
    expect(results.filter((r) => !r.redeemed)).toEqual(
      Array(15).fill({ redeemed: false, reason: 'exhausted' }),
    );
    expect((await codeRow(code.id)).times_redeemed).toBe(5);
    expect(
      await h.db('promotion_redemptions').where({ promotional_code_id: code.id }).count('* as n'),
    ).toEqual([{ n: 5 }]);
  });

  it('a single-use code is redeemed once however many sessions of the driver race for it', async () => {
    const code = await percentCode();
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    const sessions = await Promise.all(Array.from({ length: 10 }, () => insertSession(userId)));
    const results = await Promise.all(
      sessions.map((sessionId) =>
        redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId, at: new Date() }),
      ),
    );
    expect(results.filter((r) => r.redeemed)).toHaveLength(1);
    expect((await codeRow(code.id)).times_redeemed).toBe(1);
  });

  it('concurrent applications of a single-use code by one driver: one succeeds', async () => {
    const code = await percentCode();
    const userId = await newUser();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date())),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const codes = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as PromotionError).code] : [],
    );
    expect(codes).toEqual(Array(9).fill('promotional_code_already_applied'));
  });

  it('a multi-use code applied 3 times gives exactly 3 of 10 racing sessions the discount', async () => {
    const code = await percentCode({ allow_multiple_uses_per_user: true });
    const userId = await newUser();
    for (let i = 0; i < 3; i++) await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    const sessions = await Promise.all(Array.from({ length: 10 }, () => insertSession(userId)));
    const results = await Promise.all(
      sessions.map((sessionId) =>
        redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId, at: new Date() }),
      ),
    );
    expect(results.filter((r) => r.redeemed)).toHaveLength(3);
    expect((await codeRow(code.id)).times_redeemed).toBe(3);
  });

  it('the same session redeemed concurrently counts once and answers one redemption', async () => {
    const code = await percentCode({ max_uses: 3 });
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    const sessionId = await insertSession(userId);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        redeemPromotion(h.db, { promotionalCodeId: code.id, userId, sessionId, at: new Date() }),
      ),
    );
    const ids = new Set(results.map((r) => (r.redeemed ? r.redemptionId : r.reason)));
    expect(ids.size).toBe(1);
    expect(results[0].redeemed).toBe(true);
    expect((await codeRow(code.id)).times_redeemed).toBe(1);
  });
});

describe('applyCodeToSession', () => {
  it('refuses a code the driver already applied to the account when it is single use', async () => {
    const code = await percentCode();
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, code.code, new Date());
    const sessionId = await insertSession(userId);
    await expectRefusal(
      applyCodeToSession(h.db, acme.org.id, sessionId, code.code, new Date()),
      'promotional_code_already_applied',
    );
  });
});

describe('findPromotionForQuote', () => {
  it('finds an active, unexpired code with a use left, in any case, in the organization only', async () => {
    const expiresAt = inDays(3);
    const code = await percentCode({ max_uses: 1, expires_at: expiresAt.toISOString() });
    const now = new Date();
    expect(await findPromotionForQuote(h.db, acme.org.id, code.code.toLowerCase(), now)).toEqual({
      promotionalCodeId: code.id,
      code: code.code,
      discountType: 'percent',
      discountValue: '10',
      currency: null,
    });
    expect(await findPromotionForQuote(h.db, globex.org.id, code.code, now)).toBeUndefined();
    expect(await findPromotionForQuote(h.db, acme.org.id, code.code, expiresAt)).toBeUndefined();
    const userId = await newUser();
    await applyCodeToUser(h.db, acme.org.id, userId, code.code, now);
    await redeemPromotion(h.db, {
      promotionalCodeId: code.id,
      userId,
      sessionId: await insertSession(userId),
      at: now,
    });
    expect(await findPromotionForQuote(h.db, acme.org.id, code.code, now)).toBeUndefined();
    const inactive = await percentCode();
    await acme.call('POST', `/promotional-codes/${inactive.id}/deactivate`);
    expect(await findPromotionForQuote(h.db, acme.org.id, inactive.code, now)).toBeUndefined();
  });
});
