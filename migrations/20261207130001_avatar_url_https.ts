import type { Knex } from 'knex'

/** An https URL with a host and no user part: the same rule as the API's `avatarUrl` schema. */
const HTTPS_URL = '^https://[^[:space:]/?#@]+([/?#][^[:space:]]*)?$'

/**
 * Profile pictures are https URLs only. Values stored before the API checked the scheme
 * (`javascript:`, `data:`, `file:`, plain `http:`) are cleared, and the database refuses
 * them from now on, whoever writes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('update users set avatar_url = null where avatar_url is not null and avatar_url !~ :pattern', {
    pattern: HTTPS_URL,
  })
  // DDL takes no bindings; knex reads a bare `?` as one, so it is escaped. Added unchecked,
  // then validated: the validating scan holds a lock that lets reads and writes go on.
  const literal = HTTPS_URL.replace(/\?/g, '\\?')
  await knex.raw(`alter table users add constraint users_avatar_url_https check (avatar_url ~ '${literal}') not valid`)
  await knex.raw('alter table users validate constraint users_avatar_url_https')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table users drop constraint if exists users_avatar_url_https')
}
