import type { Knex } from 'knex';
import { newId } from '../ids';
import { canonicalDecimal } from './decimals';
import { fetchPage, Page, PageRequest } from './pagination';

// The operator's side of promotions: the codes themselves. How a driver applies one is in
// promotionApplications.ts, how a session redeems it in promotionRedemptions.ts.

export type DiscountType = 'percent' | 'amount' | 'free_sessions';
export const DISCOUNT_TYPES: readonly DiscountType[] = ['percent', 'amount', 'free_sessions'];

export interface PromotionalCode {
  id: string;
  organizationId: string;
  code: string;
  discountType: DiscountType;
  /** Decimal string: percent (0–100], amount in `currency`, or a whole number of free sessions. */
  discountValue: string;
  currency: string | null;
  maxUses: number | null;
  timesRedeemed: number;
  expiresAt: Date | null;
  allowMultipleUsesPerUser: boolean;
  active: boolean;
  createdAt: Date;
}

/** What a session's pricing needs to know about the code it gets. */
export interface PromotionDiscount {
  promotionalCodeId: string;
  code: string;
  discountType: DiscountType;
  discountValue: string;
  currency: string | null;
}

export interface CodeRow {
  id: string;
  organization_id: string;
  code: string;
  discount_type: DiscountType;
  discount_value: string;
  currency: string | null;
  max_uses: number | null;
  times_redeemed: number;
  expires_at: Date | null;
  allow_multiple_uses_per_user: boolean;
  active: boolean;
  created_at: Date;
}

/** The code's columns that an application or redemption row is joined with (as `c`). */
export type CodeFields = Pick<CodeRow, 'code' | 'discount_type' | 'discount_value' | 'currency'>;

export const CODE_FIELDS = ['c.code', 'c.discount_type', 'c.discount_value', 'c.currency'];

const toCode = (row: CodeRow): PromotionalCode => ({
  id: row.id,
  organizationId: row.organization_id,
  code: row.code,
  discountType: row.discount_type,
  discountValue: canonicalDecimal(row.discount_value),
  currency: row.currency,
  maxUses: row.max_uses,
  timesRedeemed: row.times_redeemed,
  expiresAt: row.expires_at,
  allowMultipleUsesPerUser: row.allow_multiple_uses_per_user,
  active: row.active,
  createdAt: row.created_at,
});

export const toDiscount = (codeId: string, row: CodeFields): PromotionDiscount => ({
  promotionalCodeId: codeId,
  code: row.code,
  discountType: row.discount_type,
  discountValue: canonicalDecimal(row.discount_value),
  currency: row.currency,
});

export function expired(expiresAt: Date | null, at: Date): boolean {
  return expiresAt !== null && expiresAt.getTime() <= at.getTime();
}

export interface NewPromotionalCode {
  code: string;
  discountType: DiscountType;
  discountValue: string;
  currency: string | null;
  maxUses: number | null;
  expiresAt: Date | null;
  allowMultipleUsesPerUser: boolean;
}

/** The unique index behind "this code already exists", for callers that translate the violation. */
export const PROMOTIONAL_CODE_UNIQUE = 'promotional_codes_org_code_unique';

export async function createPromotionalCode(
  db: Knex,
  organizationId: string,
  input: NewPromotionalCode,
): Promise<PromotionalCode> {
  const [row] = await db<CodeRow>('promotional_codes')
    .insert({
      id: newId('promo'),
      organization_id: organizationId,
      code: input.code,
      discount_type: input.discountType,
      discount_value: input.discountValue,
      currency: input.currency,
      max_uses: input.maxUses,
      expires_at: input.expiresAt,
      allow_multiple_uses_per_user: input.allowMultipleUsesPerUser,
    })
    .returning('*');
  return toCode(row);
}

export async function getPromotionalCode(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<PromotionalCode | undefined> {
  const row = await db<CodeRow>('promotional_codes').where({ organization_id: organizationId, id }).first();
  return row && toCode(row);
}

/** Codes are matched the way drivers type them: case-insensitively. */
export async function findPromotionalCodeByCode(
  db: Knex,
  organizationId: string,
  code: string,
): Promise<PromotionalCode | undefined> {
  const row = await findCodeRow(db, organizationId, code);
  return row && toCode(row);
}

export function findCodeRow(db: Knex, organizationId: string, code: string): Promise<CodeRow | undefined> {
  return db<CodeRow>('promotional_codes')
    .where({ organization_id: organizationId })
    .whereRaw('upper(code) = upper(?)', [code])
    .first();
}

export async function listPromotionalCodes(
  db: Knex,
  organizationId: string,
  page: PageRequest,
  filter: { active?: boolean } = {},
): Promise<Page<PromotionalCode>> {
  const query = db('promotional_codes').where({ organization_id: organizationId });
  if (filter.active !== undefined) query.where({ active: filter.active });
  return fetchPage(query, page, 'id', toCode);
}

/** Stops new applications and redemptions; applications already redeemed keep their discount. Idempotent. */
export async function deactivatePromotionalCode(
  db: Knex,
  organizationId: string,
  id: string,
): Promise<PromotionalCode | undefined> {
  const [row] = await db<CodeRow>('promotional_codes')
    .where({ organization_id: organizationId, id })
    .update({ active: false })
    .returning('*');
  return row && toCode(row);
}

/** A code as a quote would apply it: active, unexpired at `at` and with a use left. Nothing is reserved. */
export async function findPromotionForQuote(
  db: Knex,
  organizationId: string,
  code: string,
  at: Date,
): Promise<PromotionDiscount | undefined> {
  const row = await findCodeRow(db, organizationId, code);
  if (!row || !row.active || expired(row.expires_at, at)) return undefined;
  if (row.max_uses !== null && row.times_redeemed >= row.max_uses) return undefined;
  return toDiscount(row.id, row);
}
