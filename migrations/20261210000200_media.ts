import type { Knex } from 'knex'

/** The rule of 20261207130001: an https URL with a host and no user part (what clients may set). */
const HTTPS_URL = '^https://[^[:space:]/?#@]+([/?#][^[:space:]]*)?$'
/**
 * An avatar Oja stored itself: `<store origin>/.../avatars/<user>/<file>.webp` (on local disk
 * `<PUBLIC_URL>/uploads/avatars/...`). PUBLIC_URL may be plain http in development; clients
 * still can only set https URLs (the API's schema), so this admits nothing a client chose.
 */
const OWN_AVATAR_URL = '^https?://[^[:space:]/?#@]+(/[^[:space:]?#]*)?/avatars/[a-z0-9-]+/[a-z0-9-]+\\.webp$'

/**
 * Media: uploaded avatars and photo messages in chat.
 * - `users.avatar_pathnames`: the stored files of an uploaded avatar (deleted when it is replaced).
 * - The avatar URL check also admits the server's own local-disk avatar URLs.
 * - Messages of kind `image` with their stored files in `messages.image`; their `body` (a caption)
 *   may be empty. Image ids are unique: the file route looks a photo up by it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table users add column avatar_pathnames text[]')
  const https = HTTPS_URL.replace(/\?/g, '\\?')
  const own = OWN_AVATAR_URL.replace(/\?/g, '\\?')
  await knex.raw(`alter table users drop constraint users_avatar_url_https,
    add constraint users_avatar_url_https check (avatar_url ~ '${https}' or avatar_url ~ '${own}')`)

  await knex.raw('alter table messages add column image jsonb')
  await knex.raw(`alter table messages
    drop constraint messages_kind_check,
    add constraint messages_kind_check check (kind in ('text','offer','system','image')),
    drop constraint messages_body_length,
    add constraint messages_body_length check (char_length(body) <= 4000 and (char_length(body) >= 1 or kind = 'image')),
    add constraint messages_image_kind check ((kind = 'image') = (image is not null))`)
  await knex.raw("create unique index messages_image_id on messages ((image->>'id')) where image is not null")
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists messages_image_id')
  await knex.raw("delete from messages where kind = 'image'")
  await knex.raw(`alter table messages
    drop constraint if exists messages_image_kind,
    drop constraint messages_body_length,
    add constraint messages_body_length check (char_length(body) between 1 and 4000),
    drop constraint messages_kind_check,
    add constraint messages_kind_check check (kind in ('text','offer','system'))`)
  await knex.raw('alter table messages drop column if exists image')
  const https = HTTPS_URL.replace(/\?/g, '\\?')
  await knex.raw(`update users set avatar_url = null where avatar_url !~ '${https}'`)
  await knex.raw(`alter table users drop constraint users_avatar_url_https,
    add constraint users_avatar_url_https check (avatar_url ~ '${https}')`)
  await knex.raw('alter table users drop column if exists avatar_pathnames')
}
