import { AccountErrors, isBlockedEitherWay, userBannedSql } from '../accounts/index.js'
import { insertMessage, openListingConversation } from '../chat/index.js'
import { categoryWithDescendants } from '../categories/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { ListingErrors, findListing, invalidField, isListingOnSale, isListingPublic } from '../listings/index.js'
import type { LocationInput } from '../listings/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { pageOf } from '../shared/index.js'
import { decodeKeyset } from '../listings/index.js'
import type { Message } from '../chat/index.js'
import { isWantVisibleTo, openWantSql } from './visibility.js'
import { WantErrors as E } from './wants.errors.js'
import type { CreateWantBody, ListWantsQuery, UpdateWantBody, Want, WantResponseBody } from './wants.schemas.js'
import type { WantRow } from './wants.tables.js'

type ActorCtx = Ctx & { actor: Actor }

/** A want with its author's name and avatar (COLUMNS over `wants w join users u`). */
type WantView = Omit<WantRow, 'closed_at' | 'search_vector' | 'match_query'> & {
  author_name: string
  author_avatar: string | null
}

const COLUMNS = [
  'w.id',
  'w.user_id',
  'u.name as author_name',
  'u.avatar_url as author_avatar',
  'w.title',
  'w.description',
  'w.category_id',
  'w.max_price',
  'w.currency',
  'w.city',
  'w.state',
  'w.lat',
  'w.lng',
  'w.status',
  'w.author_banned',
  'w.created_at',
  'w.updated_at',
]

function toWant(r: WantView): Want {
  return {
    id: r.id,
    userId: r.user_id,
    author: { id: r.user_id, name: r.author_name, avatarUrl: r.author_avatar },
    title: r.title,
    description: r.description,
    categoryId: r.category_id,
    maxPrice: r.max_price,
    currency: r.currency,
    location:
      r.city === null && r.state === null && r.lat === null
        ? null
        : { city: r.city, state: r.state, lat: r.lat, lng: r.lng },
    status: r.status,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }
}

function locationColumns(location: LocationInput | null | undefined) {
  if (location === undefined) return {}
  if (location === null) return { city: null, state: null, lat: null, lng: null }
  if ((location.lat === undefined) !== (location.lng === undefined))
    throw invalidField('/body/location', 'lat and lng go together')
  return {
    city: location.city.trim(),
    state: location.state.trim(),
    lat: location.lat ?? null,
    lng: location.lng ?? null,
  }
}

async function checkCategory(db: Db, categoryId: string | null | undefined): Promise<void> {
  if (!categoryId) return
  if (!(await db('categories').where('id', categoryId).first('id')))
    throw invalidField('/body/categoryId', 'no such category')
}

/** One want by id, in the caller's database handle or transaction (chat looks up a want's author and status here). */
export async function findWant(
  db: Db,
  id: string,
): Promise<Pick<WantRow, 'id' | 'user_id' | 'status' | 'title' | 'author_banned'> | undefined> {
  return db('wants').where('id', id).first('id', 'user_id', 'status', 'title', 'author_banned')
}

/**
 * Wants: item requests buyers post. Anyone can browse open wants; a seller answers one with
 * a listing, which opens (or reuses) the conversation about that listing and notifies the
 * author. New listings that match an open want notify its author (see want-matching.ts).
 */
export function createWantsService({
  spine,
  countSend = async () => {},
}: {
  spine: EventSpine
  /** Takes one chat send from the user's allowance (or throws 429): an answer with a message is a send. */
  countSend?: (userId: string) => Promise<void>
}) {
  async function load(db: Db, id: string): Promise<WantView | undefined> {
    const row: WantView | undefined = await db('wants as w')
      .join('users as u', 'u.id', 'w.user_id')
      .where('w.id', id)
      .first(COLUMNS)
    return row
  }

  async function ownWant(ctx: ActorCtx, id: string, opts: { allowAdmin?: boolean } = {}): Promise<WantView> {
    const row = await load(ctx.db, id)
    if (!row || !isWantVisibleTo(row, ctx.actor)) throw E.wantNotFound()
    if (row.user_id !== ctx.actor.id && !(opts.allowAdmin && ctx.actor.role === 'admin'))
      throw Errors.forbidden('Only the author may change this want')
    return row
  }

  return {
    async create(ctx: ActorCtx, body: CreateWantBody): Promise<Want> {
      const title = body.title.trim().replace(/\s+/g, ' ')
      if (title.length < 3) throw invalidField('/body/title', 'must have at least 3 characters')
      await checkCategory(ctx.db, body.categoryId)
      const [row] = await ctx
        .db('wants')
        .insert({
          user_id: ctx.actor.id,
          title,
          description: body.description?.trim() ?? '',
          category_id: body.categoryId ?? null,
          max_price: body.maxPrice ?? null,
          // A ban committed after this request's token check still reaches the new row.
          author_banned: ctx.db.raw(userBannedSql('?'), [ctx.actor.id]),
          ...locationColumns(body.location),
        })
        .returning('id')
      return toWant((await load(ctx.db, row!.id))!)
    },

    async get(ctx: Ctx, id: string): Promise<Want> {
      const row = await load(ctx.db, id)
      if (!row || !isWantVisibleTo(row, ctx.actor)) throw E.wantNotFound()
      return toWant(row)
    },

    /** Everyone's open wants (or the caller's own with `mine`), newest first, with text and category filters. */
    async list(ctx: Ctx, q: ListWantsQuery): Promise<{ items: Want[]; nextCursor: string | null }> {
      if (q.mine && !ctx.actor) throw Errors.unauthenticated('Sign in to see your wants')
      if (q.status === 'closed' && !q.mine)
        throw invalidField('/querystring/status', 'closed wants are listed with mine=true only')
      const limit = q.limit ?? 20
      const after = decodeKeyset(q.cursor, ['timestamp', 'uuid'], 'wants') as [string, string] | undefined
      const query = ctx.db('wants as w').join('users as u', 'u.id', 'w.user_id')
      if (q.mine) {
        query.where('w.user_id', ctx.actor!.id)
        if (q.status) query.where('w.status', q.status)
      } else {
        query.whereRaw(openWantSql('w'))
      }
      const text = q.q?.trim()
      if (text) query.whereRaw("w.search_vector @@ websearch_to_tsquery('english', ?)", [text])
      if (q.categoryId) {
        const ids = await categoryWithDescendants(ctx, q.categoryId)
        query.whereRaw('w.category_id = any(?::uuid[])', [ids])
      }
      if (after) query.whereRaw('(w.created_at, w.id) < (?::timestamptz, ?::uuid)', after)
      const rows: (WantView & { created_key: string })[] = await query
        .orderBy([
          { column: 'w.created_at', order: 'desc' },
          { column: 'w.id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select([...COLUMNS, ctx.db.raw(`to_json(w.created_at) #>> '{}' as created_key`)])
      const page = pageOf(rows, limit, (r) => [r.created_key, r.id], 'wants')
      return { items: page.items.map(toWant), nextCursor: page.nextCursor }
    },

    async update(ctx: ActorCtx, id: string, patch: UpdateWantBody): Promise<Want> {
      const cur = await ownWant(ctx, id)
      await checkCategory(ctx.db, patch.categoryId)
      let title: string | undefined
      if (patch.title !== undefined) {
        title = patch.title.trim().replace(/\s+/g, ' ')
        if (title.length < 3) throw invalidField('/body/title', 'must have at least 3 characters')
      }
      await ctx
        .db('wants')
        .where('id', id)
        .update({
          ...(title !== undefined ? { title } : {}),
          ...(patch.description !== undefined ? { description: patch.description.trim() } : {}),
          ...(patch.categoryId !== undefined ? { category_id: patch.categoryId } : {}),
          ...(patch.maxPrice !== undefined ? { max_price: patch.maxPrice } : {}),
          ...locationColumns(patch.location),
          ...(patch.status !== undefined && patch.status !== cur.status
            ? { status: patch.status, closed_at: patch.status === 'closed' ? ctx.db.fn.now() : null }
            : {}),
          updated_at: ctx.db.fn.now(),
        })
      return toWant((await load(ctx.db, id))!)
    },

    /** Deletes a want (author or admin). Conversations that answered it keep their messages. */
    async remove(ctx: ActorCtx, id: string): Promise<void> {
      await ownWant(ctx, id, { allowAdmin: true })
      await ctx.db('wants').where('id', id).delete()
    },

    /**
     * A seller answers an open want with one of their active listings. In one transaction:
     * the conversation between the want's author (buyer) and the seller about that listing is
     * created or reused (and linked to the want), the optional first message is stored with a
     * `message:new` event to both participants, and the author gets a `want_response`
     * notification the first time this seller answers this want with this listing.
     */
    async respond(ctx: ActorCtx, wantId: string, body: WantResponseBody) {
      const want = await load(ctx.db, wantId)
      if (!want || !isWantVisibleTo(want, ctx.actor)) throw E.wantNotFound()
      if (want.status !== 'open') throw E.wantClosed()
      if (want.user_id === ctx.actor.id) throw E.ownWant()
      const listing = await findListing(ctx.db, body.listingId)
      if (!listing || (listing.seller_id !== ctx.actor.id && !isListingPublic(listing)))
        throw ListingErrors.listingNotFound()
      if (listing.seller_id !== ctx.actor.id) throw Errors.forbidden('Answer with one of your own listings')
      if (!isListingOnSale(listing)) throw ListingErrors.listingNotActive()
      // TEMPORARY: AccountErrors.blocked (accounts) replaces ListingErrors.blocked at merge.
      if (await isBlockedEitherWay(ctx.db, ctx.actor.id, want.user_id)) throw AccountErrors.blocked()
      if (body.message !== undefined && body.message.trim() !== '') await countSend(ctx.actor.id)

      return spine.transaction(ctx, async (tx) => {
        // The listing's conversation with the author (chat's rows, written in this transaction).
        const conversation = await openListingConversation(tx.db, {
          listingId: listing.id,
          wantId,
          buyerId: want.user_id,
          sellerId: ctx.actor.id,
        })
        const conversationId = conversation.id
        const created = conversation.created
        // The author hears of this answer once: when the conversation was not already about this want.
        const firstAnswer = conversation.previousWantId !== wantId

        let message: Message | null = null
        if (body.message !== undefined && body.message.trim() !== '') {
          // Through chat's insert: a strictly later time than the conversation's last message, and the activity bump.
          const m = (await insertMessage(
            tx,
            { id: conversationId },
            { senderId: ctx.actor.id, kind: 'text', body: body.message.trim() },
          ))!
          message = {
            id: m.id,
            conversationId: m.conversation_id,
            senderId: m.sender_id!,
            kind: 'text',
            body: m.body,
            clientId: m.client_id,
            createdAt: m.created_at.toISOString(),
            readAt: null,
          }
          await spine.append(
            tx,
            [want.user_id, ctx.actor.id].map((userId) => ({ userId, event: 'message:new', data: message })),
          )
        }
        if (firstAnswer)
          await spine.notify(tx, [want.user_id], 'want_response', { wantId, listingId: listing.id, conversationId })
        return { conversationId, created, message }
      })
    },
  }
}

export type WantsService = ReturnType<typeof createWantsService>
