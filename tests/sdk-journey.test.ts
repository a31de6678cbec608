/**
 * The TypeScript SDK (clients/typescript) against a real Oja listening on a port, with its
 * live gateway: a whole journey as an app would make it, from registering to a review, with
 * a live chat on the way; and the token refresh done once for many parallel calls.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import {
  createOjaClient,
  memoryTokens,
  OjaProblem,
  type OjaClient,
  type Tokens,
} from '../clients/typescript/src/index.js'
import { connectLive, LiveRequestError } from '../clients/typescript/src/live.js'
import { testDatabase } from './helpers/app.js'
import { startNode, type Node } from './helpers/nodes.js'
import { uniqueEmail } from './helpers/app.js'

const PASSWORD = 'correct horse battery staple'

async function signedUp(node: Node, name: string, fetchImpl?: typeof fetch): Promise<OjaClient> {
  const client = createOjaClient({ baseUrl: node.url, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
  await client.register({ email: uniqueEmail(name.toLowerCase()), password: PASSWORD, name })
  return client
}

void t.test(
  'register → list → chat live → cart → checkout → pay → ship → receive → review, all through the SDK',
  async (t) => {
    const node = await startNode(t, await testDatabase(t))
    t.teardown(() => node.app.commerce.idle())
    const seller = await signedUp(node, 'Seller')
    const buyer = await signedUp(node, 'Buyer')
    const me = await seller.unwrap(seller.api.GET('/v1/me'))
    t.equal(me.name, 'Seller', 'the SDK sends the access token it kept')

    // The seller lists a blender in a leaf category.
    const tree = await seller.unwrap(seller.api.GET('/v1/categories'))
    const leaf = (function first(nodes: typeof tree): string | undefined {
      for (const n of nodes) {
        if (!n.children || n.children.length === 0) return n.id
        const found = first(n.children as typeof tree)
        if (found) return found
      }
      return undefined
    })(tree)
    t.ok(leaf, 'a leaf category')
    const key = randomUUID()
    const create = () =>
      seller.unwrap(
        seller.api.POST('/v1/listings', {
          params: { header: { 'idempotency-key': key } },
          body: {
            title: 'Kenwood blender',
            description: 'Used twice',
            type: 'sale',
            price: 25_000_00,
            currency: 'NGN',
            condition: 'like_new',
            categoryId: leaf!,
            quantity: 1,
            location: { city: 'Lagos', state: 'Lagos' },
          },
        }),
      )
    const listing = await create()
    t.equal((await create()).id, listing.id, 'a retried create with the same Idempotency-Key is the same listing')

    // Both go live; the buyer asks about it and the seller hears at once.
    const buyerLive = connectLive(buyer, node.url)
    const sellerLive = connectLive(seller, node.url)
    t.teardown(() => {
      buyerLive.close()
      sellerLive.close()
    })
    await Promise.all([buyerLive.connected(), sellerLive.connected()])
    const conversation = await buyer.unwrap(buyer.api.POST('/v1/conversations', { body: { listingId: listing.id } }))
    const heard = new Promise<string>((resolve) => sellerLive.on('message:new', (m) => resolve(m.body)))
    const sent = await buyerLive.send('message:send', {
      conversationId: conversation.id,
      body: 'Is it still available?',
      clientId: randomUUID(),
    })
    t.equal(sent.body, 'Is it still available?', 'the ack carries the stored message')
    t.equal(await heard, 'Is it still available?', 'the seller got message:new')
    t.ok(sellerLive.lastSeq > 0, 'the live client keeps the last seq')
    const refused = await buyerLive
      .send('message:send', { conversationId: conversation.id, body: '', clientId: randomUUID() })
      .catch((err: unknown) => err)
    t.ok(refused instanceof LiveRequestError, 'a refused request rejects')
    t.equal((refused as LiveRequestError).ack.code, 'VALIDATION_FAILED', 'with its ack code')

    // Cart, address, checkout.
    await buyer.unwrap(
      buyer.api.PUT('/v1/cart/items/{listingId}', {
        params: { path: { listingId: listing.id } },
        body: { quantity: 1 },
      }),
    )
    const address = await buyer.unwrap(
      buyer.api.POST('/v1/me/addresses', {
        body: {
          fullName: 'Buyer Obi',
          phone: '+2348012345678',
          line1: '1 Marina',
          city: 'Lagos',
          state: 'Lagos',
          country: 'NG',
        },
      }),
    )
    const checkout = await buyer.unwrap(
      buyer.api.POST('/v1/checkout', {
        params: { header: { 'idempotency-key': randomUUID() } },
        body: { addressId: address.id },
      }),
    )
    t.equal(checkout.order.total, 25_000_00)

    // Paying is the browser's part: the simulator's page. The buyer's app hears the order is paid.
    const paid = new Promise<string>((resolve) =>
      buyerLive.on('order:status', (s) => {
        if (s.orderId === checkout.order.id && s.paymentStatus === 'paid') resolve(s.paymentStatus)
      }),
    )
    const pay = await fetch(`${node.url}${new URL(checkout.payment!.authorizationUrl).pathname}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      redirect: 'manual',
    })
    t.equal(pay.status, 303)
    t.equal(await paid, 'paid', 'order:status arrived live')
    const order = await buyer.unwrap(buyer.api.GET('/v1/orders/{id}', { params: { path: { id: checkout.order.id } } }))
    t.equal(order.paymentStatus, 'paid')

    // The seller ships and delivers; the buyer confirms and reviews.
    const sales = await seller.unwrap(seller.api.GET('/v1/sales'))
    const shipmentId = sales.items[0]!.shipment.id
    for (const status of ['sent', 'delivered'] as const)
      await seller.unwrap(
        seller.api.POST('/v1/shipments/{id}/status', { params: { path: { id: shipmentId } }, body: { status } }),
      )
    await buyer.unwrap(buyer.api.POST('/v1/shipments/{id}/received', { params: { path: { id: shipmentId } } }))
    const review = await buyer.unwrap(
      buyer.api.POST('/v1/shipments/{id}/reviews', {
        params: { path: { id: shipmentId }, header: { 'idempotency-key': randomUUID() } },
        body: { rating: 5, body: 'As described, quick hand-over' },
      }),
    )
    t.equal(review.rating, 5)
    const reviews = await buyer.unwrap(buyer.api.GET('/v1/users/{id}/reviews', { params: { path: { id: me.id } } }))
    t.same(
      reviews.items.map((r) => r.id),
      [review.id],
      "the review is on the seller's profile",
    )

    // Errors come back as typed problems.
    const again = await buyer
      .unwrap(
        buyer.api.POST('/v1/shipments/{id}/reviews', {
          params: { path: { id: shipmentId }, header: { 'idempotency-key': randomUUID() } },
          body: { rating: 4, body: 'Twice' },
        }),
      )
      .catch((err: unknown) => err)
    t.ok(again instanceof OjaProblem, 'errors are thrown as OjaProblem')
    t.equal((again as OjaProblem).status, 409, 'a second review is a 409 problem')

    await buyer.signOut()
    t.equal(buyer.tokens.get(), undefined, 'signed out: no tokens kept')
  },
)

void t.test('an expired access token is refreshed once for twenty parallel calls, which all succeed', async (t) => {
  const node = await startNode(t, await testDatabase(t))
  let refreshes = 0
  const counting: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith('/v1/auth/refresh')) refreshes++
    return fetch(input, init)
  }
  const user = await signedUp(node, 'Parallel', counting)
  // An access token of the same session that expired a moment ago (signed with the server's key).
  const current = user.tokens.get()!
  const claims = JSON.parse(Buffer.from(current.accessToken.split('.')[1]!, 'base64url').toString()) as {
    sub: string
    sid: string
    role: 'user' | 'admin'
  }
  const expired = node.app.jwt.sign({ sub: claims.sub, sid: claims.sid, role: claims.role }, { expiresIn: 1 })
  await new Promise((r) => setTimeout(r, 1_500))
  const stale: Tokens = { accessToken: expired, refreshToken: current.refreshToken }
  const client = createOjaClient({ baseUrl: node.url, tokens: memoryTokens(stale), fetch: counting })
  refreshes = 0
  const answers = await Promise.all(Array.from({ length: 20 }, () => client.api.GET('/v1/me')))
  t.same(
    answers.map((a) => a.response.status),
    Array(20).fill(200),
    'every call succeeded after the refresh',
  )
  t.equal(refreshes, 1, 'one refresh for all of them')
  t.not(client.tokens.get()!.accessToken, expired, 'the new token is kept')

  // A refresh the server refuses signs the client out (and says so), rather than looping.
  let signedOut = false
  const gone = createOjaClient({
    baseUrl: node.url,
    tokens: memoryTokens({ accessToken: expired, refreshToken: 'not-a-token' }),
    onSignedOut: () => (signedOut = true),
  })
  const res = await gone.api.GET('/v1/me')
  t.equal(res.response.status, 401)
  t.ok(signedOut, 'onSignedOut was called')
  t.equal(gone.tokens.get(), undefined)
})
