import type { Knex } from 'knex';

// What a session does when the card hold is declined: by default the charge point is asked to stop (no
// money is secured for more energy); an operator who prefers to let such sessions run, and bill the amount
// as due, turns it off.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organizations', (t) => {
    t.boolean('stop_charging_on_declined_hold').notNullable().defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('organizations', (t) => {
    t.dropColumn('stop_charging_on_declined_hold');
  });
}
