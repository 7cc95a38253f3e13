import type { Party } from '../documents/billing-document';
import type { Organization } from '../db/repositories/organizations';

/** The organization as the buyer on its documents: its billing contact, else its name. */
export function buyerOf(org: Organization): Party {
  const c = org.billingContact;
  const a = c.address;
  return {
    name: c.name ?? org.name,
    address: a
      ? [a.line1, a.line2, `${a.postalCode} ${a.city}`, a.country].filter((l): l is string => !!l)
      : [],
    vatNumber: c.vatNumber,
    email: c.email,
  };
}
