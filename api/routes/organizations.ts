import type { Router } from 'express';
import {
  BillingContact,
  Organization,
  PostalAddress,
  updateOrganization,
} from '../../db/repositories/organizations';
import { isCurrency } from '../../pricing/currency';
import { OPERATORS, requireRole } from '../auth';
import type { ResolvedDeps } from '../deps';
import { invalidParam, resourceMissing } from '../errors';
import { read, write } from '../handler';
import { iso } from '../json';
import {
  Body,
  EMAIL,
  isPlainObject,
  optionalBoolean,
  optionalString,
  PROVIDER_ID,
  readBody,
  rejectUnknownFields,
  requiredString,
  requiredTimeZone,
} from '../validation';

const organizationJson = (o: Organization) => ({
  object: 'organization',
  id: o.id,
  name: o.name,
  currency: o.currency,
  billing_contact: {
    email: o.billingContact.email,
    name: o.billingContact.name,
    address: o.billingContact.address && {
      line1: o.billingContact.address.line1,
      line2: o.billingContact.address.line2 ?? null,
      postal_code: o.billingContact.address.postalCode,
      city: o.billingContact.address.city,
      country: o.billingContact.address.country,
    },
    vat_number: o.billingContact.vatNumber,
  },
  time_zone: o.timeZone,
  stop_charging_on_declined_hold: o.stopChargingOnDeclinedHold,
  payment_method_id: o.paymentMethodId,
  payment_customer_id: o.paymentCustomerId,
  created_at: iso(o.createdAt),
});

// An API key belongs to one organization: any other id is answered as unknown, never as forbidden.
function ownId(org: Organization, id: string): void {
  if (id !== org.id) throw resourceMissing('organization', id);
}

const has = (body: Body, key: string) => body[key] !== undefined && body[key] !== null;

export function registerOrganizationRoutes(router: Router, deps: ResolvedDeps): void {
  router.get(
    '/organizations/:id',
    read(deps, async ({ org, params }) => {
      ownId(org, params.id);
      return { status: 200, body: organizationJson(org) };
    }),
  );

  // time_zone sets the calendar of the monthly energy allowance and of invoice periods (they start at local
  // midnight). A billing delegate may change the billing contact only.
  router.patch(
    '/organizations/:id',
    write(
      deps,
      async ({ db, org, principal, params, body: raw }) => {
        ownId(org, params.id);
        const body = readBody(raw, [
          ...SETTINGS,
          'billing_contact',
          'payment_method_id',
          'payment_customer_id',
        ]);
        if (principal.role === 'billing') {
          const setting = SETTINGS.find((f) => body[f] !== undefined);
          if (setting) requireRole(principal, OPERATORS);
        }
        const name = optionalString(body, 'name', { max: 200, trim: true });
        const timeZone = has(body, 'time_zone') ? requiredTimeZone(body, 'time_zone') : undefined;
        const currency = has(body, 'currency') ? requiredCurrency(body, 'currency') : undefined;
        const stopCharging = optionalBoolean(body, 'stop_charging_on_declined_hold');
        const updated = await updateOrganization(db, org.id, {
          name,
          timeZone,
          currency,
          stopChargingOnDeclinedHold: stopCharging,
          billingContact: readBillingContact(body),
          paymentMethodId: nullableProviderId(body, 'payment_method_id'),
          paymentCustomerId: nullableProviderId(body, 'payment_customer_id'),
        });
        if (!updated) throw resourceMissing('organization', params.id);
        return { status: 200, body: organizationJson(updated) };
      },
      ['owner', 'admin', 'billing'],
    ),
  );
}

const SETTINGS = ['name', 'time_zone', 'currency', 'stop_charging_on_declined_hold'] as const;

/** The saved payment method invoices are charged to: absent keeps, null removes. */
function nullableProviderId(body: Body, param: string): string | null | undefined {
  return body[param] === null ? null : optionalString(body, param, PROVIDER_ID);
}

const LINE = { max: 200, trim: true };

function requiredCurrency(body: Body, param: string): string {
  const code = requiredString(body, param, {
    max: 3,
    pattern: /^[A-Z]{3}$/,
    patternMessage: 'must be an ISO 4217 code such as EUR',
  });
  if (!isCurrency(code)) throw invalidParam(param, `'${code}' is not an ISO 4217 currency`);
  return code;
}

// Nested fields are read under their full names, so errors name them as billing_contact.address.city.
function nested(raw: unknown, path: string, allowed: readonly string[]): Body {
  if (!isPlainObject(raw)) throw invalidParam(path, 'must be an object');
  rejectUnknownFields(raw, allowed, path);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`${path}.${k}`, v]));
}

const VAT_NUMBER = {
  max: 20,
  pattern: /^[A-Z]{2}[0-9A-Z+*.]{2,18}$/,
  patternMessage: 'must be a VAT number with its country prefix, such as DE123456789',
};
const COUNTRY = {
  max: 2,
  pattern: /^[A-Z]{2}$/,
  patternMessage: 'must be an ISO 3166-1 alpha-2 code such as DE',
};

/** Absent: keep; null: clear; an object: only its fields change, each null clearing one. */
function readBillingContact(body: Body): Partial<BillingContact> | undefined {
  const raw = body.billing_contact;
  if (raw === undefined) return undefined;
  if (raw === null) return { email: null, name: null, address: null, vatNumber: null };
  const path = 'billing_contact';
  const c = nested(raw, path, ['email', 'name', 'address', 'vat_number']);
  const field = <T>(key: string, read: (param: string) => T | undefined): T | null | undefined =>
    c[`${path}.${key}`] === null ? null : read(`${path}.${key}`);
  return {
    email: field('email', (p) => optionalString(c, p, EMAIL)),
    name: field('name', (p) => optionalString(c, p, LINE)),
    vatNumber: field('vat_number', (p) => optionalString(c, p, VAT_NUMBER)),
    address: field('address', (p) => (c[p] === undefined ? undefined : readAddress(c[p], p))),
  };
}

function readAddress(raw: unknown, path: string): PostalAddress {
  const a = nested(raw, path, ['line1', 'line2', 'postal_code', 'city', 'country']);
  return {
    line1: requiredString(a, `${path}.line1`, LINE),
    line2: optionalString(a, `${path}.line2`, LINE),
    postalCode: requiredString(a, `${path}.postal_code`, { max: 20, trim: true }),
    city: requiredString(a, `${path}.city`, LINE),
    country: requiredString(a, `${path}.country`, COUNTRY),
  };
}
