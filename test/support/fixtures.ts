import type { Knex } from 'knex';
import { newId } from '../../db/ids';
import type { TariffDefinition } from '../../pricing/model';
import { definitionFromSimpleComponents, SimpleComponentType } from '../../pricing/tariff-definition';

export interface Fixture {
  organizationId: string;
  chargePointId: string;
  identity: string;
  tariffVersionId: string;
  idTag: string;
  userId: string;
}

/** Rows a billed session needs, inserted directly: an org, a site, a charge point, a tariff and a driver. */
export async function insertBillingFixture(
  db: Knex,
  opts: {
    identity: string;
    idTag: string;
    currency?: string;
    components?: { type: string; price: string }[];
    /** The full tariff form; replaces components. */
    definition?: TariffDefinition;
    holdAmount?: string;
    paymentMethodId?: string | null;
  },
): Promise<Fixture> {
  const organizationId = newId('org');
  await db('organizations').insert({ id: organizationId, name: `Org ${opts.identity}` });
  await db('user_types').insert({ organization_id: organizationId, name: 'public' });
  const projectId = newId('prj');
  await db('projects').insert({ id: projectId, organization_id: organizationId, name: 'Project' });
  const siteId = newId('site');
  await db('sites').insert({
    id: siteId,
    organization_id: organizationId,
    project_id: projectId,
    name: 'Site',
  });
  const chargePointId = newId('cp');
  await db('charge_points').insert({
    id: chargePointId,
    organization_id: organizationId,
    site_id: siteId,
    identity: opts.identity,
    hold_amount: opts.holdAmount ?? '50.00',
  });
  const tariffId = newId('tar');
  await db('tariffs').insert({ id: tariffId, organization_id: organizationId });
  const tariffVersionId = newId('tarv');
  const currency = opts.currency ?? 'EUR';
  const components = opts.components ?? [
    { type: 'flat_fee', price: '1.00' },
    { type: 'per_kwh', price: '0.35' },
    { type: 'per_minute', price: '0.05' },
  ];
  await db('tariff_versions').insert({
    id: tariffVersionId,
    tariff_id: tariffId,
    version: 1,
    name: 'Standard',
    currency,
    valid_from: new Date('2000-01-01T00:00:00Z'),
    definition: JSON.stringify(
      opts.definition ??
        definitionFromSimpleComponents(
          currency,
          components as { type: SimpleComponentType; price: string }[],
        ),
    ),
  });
  if (!opts.definition)
    await db('tariff_components').insert(
      components.map((c, position) => ({
        tariff_version_id: tariffVersionId,
        position,
        type: c.type,
        price: c.price,
      })),
    );
  await db('tariff_assignments').insert({
    id: newId('tas'),
    organization_id: organizationId,
    tariff_id: tariffId,
    scope_type: 'project',
    scope_id: projectId,
  });
  const userId = newId('usr');
  await db('users').insert({
    id: userId,
    organization_id: organizationId,
    email: `${opts.idTag.toLowerCase()}@example.com`,
    user_type: 'public',
    payment_method_id: opts.paymentMethodId === undefined ? 'pm_card_visa' : opts.paymentMethodId,
  });
  await db('id_tags').insert({
    id: newId('tag'),
    organization_id: organizationId,
    id_tag: opts.idTag,
    user_id: userId,
    type: 'rfid',
  });
  return {
    organizationId,
    chargePointId,
    identity: opts.identity,
    tariffVersionId,
    idTag: opts.idTag,
    userId,
  };
}
