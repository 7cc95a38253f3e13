import type { Knex } from 'knex';

// Each month's allowance usage is kept as that period's record: the monthly reset closes it with the
// allowance that applied, and opens the new month at zero for everyone with an allowance.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('allowance_usage', (t) => {
    t.decimal('allowance_kwh', 12, 3);
    t.timestamp('closed_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('allowance_usage', (t) => {
    t.dropColumns('allowance_kwh', 'closed_at');
  });
}
