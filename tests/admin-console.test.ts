/**
 * The admin console (GET /admin) in a real headless Chromium, against a real node (HTTP and
 * the live gateway on loopback, PostgreSQL, Redis, a fake Paystack): sign in, moderate a
 * flagged review, ban a user, refund part of an order, see a flag arrive live, read the audit
 * rows, draw the stats; axe-core on every page; a normal user gets nowhere. Screenshots of each
 * page go to tests/artifacts/ for people to look at.
 */
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { CONSOLE_CSP } from '../src/console/index.js'
import { call } from './helpers/app.js'
import { startNode } from './helpers/nodes.js'
import { testDatabase } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aShipment } from './factories/trust.js'
import { paidOrder } from './factories/commerce.js'
import { FakePaystack } from './fakes/paystack.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = path.resolve(import.meta.dirname, 'artifacts')
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
const WAIT = { timeout: 15_000 }

/** Runs axe-core in the page (evaluated through the DevTools protocol: the page's CSP stays as it is). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE)
  // Browser-side code as strings: the tests are type-checked without the DOM library.
  const result = (await page.evaluate(`axe.run().then(({ violations }) => violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target),
  })))`)) as { id: string; impact: string | null; help: string; targets: unknown[] }[]
  return result
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} ${JSON.stringify(v.targets).slice(0, 300)}`)
}

async function snapshot(t: Test, page: Page, name: string) {
  t.same(await seriousViolations(page), [], `${name}: axe finds no serious or critical violation`)
  await page.screenshot({ path: path.join(ARTIFACTS, `admin-${name}.png`), fullPage: true })
}

async function openPage(page: Page, link: string, heading: string) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link }).click()
  await page.getByRole('heading', { level: 1, name: heading }).waitFor(WAIT)
}

/** In the open dialog: picks `choices` and fills `fields` (by label), then confirms with `confirm`. */
async function confirmIn(
  page: Page,
  fields: Record<string, string>,
  confirm: string,
  choices: Record<string, string> = {},
) {
  const dialog = page.getByRole('dialog')
  await dialog.waitFor(WAIT)
  for (const [label, value] of Object.entries(choices)) await dialog.getByLabel(label).selectOption(value)
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label).fill(value)
  await dialog.getByRole('button', { name: confirm }).click()
}

async function signIn(page: Page, user: SignedInUser) {
  await page.getByLabel('Email').fill(user.email)
  await page.getByLabel('Password').fill(user.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

// A browser journey: about a minute alone, more while the rest of the suite shares the CPUs.
t.setTimeout(300_000)

void t.test('the admin console in a real browser', async (t) => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`)
  mkdirSync(ARTIFACTS, { recursive: true })
  const paystack = await FakePaystack.start()
  t.teardown(() => paystack.close())
  const db = await testDatabase(t)
  const node = await startNode(t, db, {
    env: {
      PAYSTACK_SECRET_KEY: paystack.secretKey,
      PAYSTACK_BASE_URL: paystack.url,
      PAYSTACK_TIMEOUT_MS: 2000,
      // Short-lived access tokens: the console refreshes them (and its socket's) during the journey.
      ACCESS_TOKEN_TTL_SECONDS: 30,
    },
  })
  const app = Object.assign(node.app, { testDb: db })
  t.teardown(() => app.commerce.idle())

  // The world: an admin; a seller with a flagged review and another review not yet flagged;
  // a seller to ban, with a listing in search; a paid order to refund; a report.
  const admin = await anAdmin(app)
  const [seller, buyer, flagger, spammer, normal] = [
    await aUser(app, { name: 'Sade Seller' }),
    await aUser(app, { name: 'Bola Buyer' }),
    await aUser(app, { name: 'Funmi Flagger' }),
    await aUser(app, { name: 'Spammy Sam' }),
    await aUser(app, { name: 'Normal Nneka' }),
  ]
  const review = async (body: string, rating: number) => {
    const shipment = await aShipment(app.db, buyer.id, seller.id)
    const res = await call(app, 'POST', `/v1/shipments/${shipment.shipmentId}/reviews`, {
      token: buyer.accessToken,
      body: { rating, body },
    })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json.id as string
  }
  const flagged = await review('Seller is a thief, call 0803 000 0000 instead', 1)
  const later = await review('Rude when I collected it, otherwise fine', 2)
  const flag = (id: string, reason: string) =>
    call(app, 'POST', `/v1/reviews/${id}/flags`, { token: flagger.accessToken, body: { reason } })
  t.equal((await flag(flagged, 'Contains a phone number and an insult')).statusCode, 201)
  const spam = await aListing(app.db, spammer.id, { title: 'Miracle weight loss tea' })
  const inSearch = async () =>
    ((await call(app, 'GET', `/v1/listings?sellerId=${spammer.id}`)).json.items as { id: string }[]).map((l) => l.id)
  t.same(await inSearch(), [spam.id], "the spammer's listing is in search before the ban")
  t.equal(
    (
      await call(app, 'POST', `/v1/listings/${spam.id}/reports`, {
        token: flagger.accessToken,
        body: { reason: 'scam', detail: 'Medical claims' },
      })
    ).statusCode,
    201,
  )
  const lamp = await aListing(app.db, seller.id, { title: 'Brass floor lamp', price: 30_000_00, quantity: 2 })
  const order = await paidOrder(app, paystack, buyer, [lamp.id])
  const reference = order.payment.reference as string
  const chair = await aListing(app.db, seller.id, { title: 'Rattan armchair', price: 20_000_00 })
  const disputed = await paidOrder(app, paystack, buyer, [chair.id])

  const userDataDir = mkdtempSync(path.join(tmpdir(), 'oja-chromium-'))
  t.teardown(() => rmSync(userDataDir, { recursive: true, force: true }))
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
  })
  t.teardown(() => context.close())
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(15_000)
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (msg) => {
    // A refused call's own log line ("Failed to load resource: 4xx") is the browser's, not a fault.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(msg.text())
  })
  const refreshes: number[] = []
  page.on('response', (r) => {
    if (r.url().endsWith('/v1/auth/refresh')) refreshes.push(r.status())
  })
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
  )

  // Sign-in: the page's answer carries the console's strict CSP.
  const res = await page.goto(`${node.url}/admin`)
  t.equal(res?.status(), 200)
  t.equal(res?.headers()['content-security-policy'], CONSOLE_CSP, 'a strict CSP on /admin')
  t.notMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/, 'no inline scripts or styles, no eval')
  await page.getByRole('heading', { name: 'Oja admin' }).waitFor(WAIT)
  await snapshot(t, page, 'sign-in')
  const tokensStored = await page.evaluate('localStorage.length + sessionStorage.length')
  await signIn(page, admin)

  // The moderation queue shows the seeded flagged review; hide it (asked first, with a note).
  await page.getByRole('heading', { level: 1, name: 'Flagged reviews' }).waitFor(WAIT)
  const card = page.locator(`[data-review="${flagged}"]`)
  await card.getByText('Contains a phone number and an insult').waitFor(WAIT)
  await page.getByText('Live', { exact: true }).waitFor(WAIT)
  await snapshot(t, page, 'reviews')
  await card.getByRole('button', { name: 'Hide' }).click()
  await confirmIn(page, { 'Note for the audit log': 'Personal data and abuse' }, 'Hide review')
  await page.getByRole('status').filter({ hasText: 'Review by Bola Buyer hidden.' }).waitFor(WAIT)
  await card.waitFor({ state: 'detached', ...WAIT })
  const publicReviews = await call(app, 'GET', `/v1/users/${seller.id}/reviews`)
  t.notOk(
    (publicReviews.json.items as { id: string }[]).some((r) => r.id === flagged),
    'the hidden review left the public reviews API',
  )
  t.ok(
    (publicReviews.json.items as { id: string }[]).some((r) => r.id === later),
    'the other one is still there',
  )

  // A new flag by another user arrives live in the open queue; a new report, on another
  // page, is counted on that page's link.
  t.equal((await flag(later, 'Personal attack')).statusCode, 201)
  await page.locator(`[data-review="${later}"]`).getByText('Personal attack').waitFor(WAIT)
  const radio = await aListing(app.db, seller.id, { title: 'Vintage radio' })
  const reported = await call(app, 'POST', `/v1/listings/${radio.id}/reports`, {
    token: flagger.accessToken,
    body: { reason: 'prohibited', detail: 'Looks stolen' },
  })
  t.equal(reported.statusCode, 201, reported.body)
  const count = page.locator('[data-live="admin:report"]')
  await count.waitFor(WAIT)
  t.match(await count.innerText(), /^1/, 'the navigation counts the new report')
  t.equal(await page.locator('[data-live="admin:flag"]').count(), 0, 'the flag on the open page is not counted')

  // Listing reports.
  await openPage(page, 'Listing reports', 'Listing reports')
  await page.getByRole('heading', { name: 'Miracle weight loss tea', exact: true }).waitFor(WAIT)
  await page.getByRole('heading', { name: 'Vintage radio', exact: true }).waitFor(WAIT)
  t.equal(await count.count(), 0, 'opening the page clears its count')
  await snapshot(t, page, 'reports')
  const report = page.locator('[data-report]').filter({ hasText: 'Miracle weight loss tea' })
  await report.getByRole('button', { name: 'Dismiss' }).click()
  t.same(await seriousViolations(page), [], 'the confirmation dialog: axe finds no serious or critical violation')
  await confirmIn(page, { 'Note for the audit log': 'Handled by the ban below' }, 'Dismiss report')
  await page.getByRole('status').filter({ hasText: 'Report dismissed.' }).waitFor(WAIT)
  await report.waitFor({ state: 'detached', ...WAIT })

  // Users: search by email, open the profile, ban with the keyboard (asked first).
  await openPage(page, 'Users', 'Users')
  await page.getByLabel('Name or email').fill(spammer.email)
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByRole('link', { name: 'Spammy Sam' }).waitFor(WAIT)
  await snapshot(t, page, 'users')
  await page.getByRole('link', { name: 'Spammy Sam' }).click()
  await page.getByRole('heading', { level: 1, name: 'Spammy Sam' }).waitFor(WAIT)
  await page.getByRole('cell', { name: 'Miracle weight loss tea' }).first().waitFor(WAIT)
  await page.getByRole('button', { name: 'Ban', exact: true }).focus()
  await page.keyboard.press('Enter')
  await page.getByRole('dialog').waitFor(WAIT)
  await page.keyboard.type('Selling fake medicine')
  await page.keyboard.press('Tab') // Cancel
  await page.keyboard.press('Tab') // Ban user
  await page.keyboard.press('Enter')
  await page.getByRole('status').filter({ hasText: 'Spammy Sam banned' }).waitFor(WAIT)
  await page.getByText('hidden by ban').waitFor(WAIT)
  t.same(await inSearch(), [], "the banned user's listings left search")
  await snapshot(t, page, 'user-profile')

  // Orders: look up by the Paystack reference, refund part of it.
  await openPage(page, 'Orders', 'Orders')
  await page.getByLabel('Order id or Paystack reference').fill(reference)
  await page.getByRole('button', { name: 'Look up' }).click()
  await page.locator(`[data-order="${order.id}"]`).waitFor(WAIT)
  await page.getByText('Order placed').waitFor(WAIT) // the shipment's history
  // Too much: the problem's detail is shown, nothing changes.
  await page.getByRole('button', { name: 'Refund', exact: true }).click()
  await confirmIn(page, { 'Amount in naira (empty: all of it)': '1000000', Reason: 'Typo' }, 'Refund')
  const refusal = page.getByRole('alert')
  await refusal.waitFor(WAIT)
  t.match(await refusal.innerText(), /\S/, `the problem's detail is shown: ${await refusal.innerText()}`)
  await page.getByRole('button', { name: 'Refund', exact: true }).click()
  await confirmIn(page, { 'Amount in naira (empty: all of it)': '50', Reason: 'One bulb was broken' }, 'Refund')
  await page.getByRole('status').filter({ hasText: 'Refund of ₦50.00' }).waitFor(WAIT)
  await page.getByRole('region', { name: 'Refunds' }).getByRole('cell', { name: 'One bulb was broken' }).waitFor(WAIT)
  await page
    .getByRole('region', { name: 'Payment history' })
    .locator('tr[data-action="admin.order_refunded"]')
    .waitFor(WAIT)
  const refunded = await call(app, 'GET', `/v1/orders/${order.id}`, { token: admin.accessToken })
  t.equal(refunded.json.paymentStatus, 'partially_refunded')
  t.equal(refunded.json.refundedAmount, 50_00, 'a part refunded')
  await snapshot(t, page, 'order')

  // A dispute opened by the buyer arrives live (a count on its page's link); resolve it.
  const opened = await call(app, 'POST', `/v1/shipments/${disputed.shipments[0].id}/disputes`, {
    token: buyer.accessToken,
    body: { reason: 'damaged', detail: 'One leg is snapped' },
  })
  t.equal(opened.statusCode, 201, opened.body)
  await page.locator('[data-live="admin:dispute"]').waitFor(WAIT)
  await openPage(page, 'Disputes & payouts', 'Disputes & payouts')
  const dispute = page.locator(`[data-dispute="${opened.json.id}"]`)
  await dispute.getByText('One leg is snapped').waitFor(WAIT)
  await page.getByRole('heading', { name: 'Payouts', level: 2 }).waitFor(WAIT)
  await snapshot(t, page, 'money')
  await dispute.getByRole('button', { name: 'Resolve' }).click()
  await confirmIn(
    page,
    { 'Refund in naira (split only)': '40', 'Note (both sides see it)': 'Partly damaged' },
    'Resolve dispute',
    { Outcome: 'split' },
  )
  await page.getByRole('status').filter({ hasText: 'Dispute resolved.' }).waitFor(WAIT)
  await dispute.waitFor({ state: 'detached', ...WAIT })
  const resolved = await call(app, 'GET', `/v1/disputes/${opened.json.id}`, { token: admin.accessToken })
  t.match(resolved.json, { status: 'resolved', outcome: 'split', refundAmount: 40_00 })

  // The audit log holds every action above, newest first.
  await openPage(page, 'Audit log', 'Audit log')
  for (const action of [
    'admin.review_hidden',
    'admin.report_dismissed',
    'admin.user_banned',
    'admin.order_refunded',
    'admin.dispute_resolved',
  ])
    await page.locator(`tr[data-action="${action}"]`).first().waitFor(WAIT)
  await page.getByLabel('Action', { exact: true }).fill('admin.user_banned')
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.locator('tr[data-action="admin.order_refunded"]').waitFor({ state: 'detached', ...WAIT })
  t.equal(await page.locator('tr[data-action]').count(), 1, 'filtered to the ban')
  await snapshot(t, page, 'audit')

  // Stats: the charts are drawn (canvases with pixels on them).
  await openPage(page, 'Stats', 'Stats')
  await page.locator('.chart canvas').nth(2).waitFor(WAIT)
  const painted = (await page.evaluate(`[...document.querySelectorAll('.chart canvas')].map((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height)
    let ink = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++
    return { width: c.width, ink }
  })`)) as { width: number; ink: number }[]
  t.equal(painted.length, 3, 'three charts: revenue, orders by status, top categories')
  t.ok(
    painted.every((c) => c.width > 200 && c.ink > 100),
    `every chart has something drawn ${JSON.stringify(painted)}`,
  )
  await page.getByRole('link', { name: 'Sade Seller' }).waitFor(WAIT) // top sellers
  await snapshot(t, page, 'stats')

  // Readable on a phone: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 })
  await openPage(page, 'Flagged reviews', 'Flagged reviews')
  t.ok(
    await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
    'no horizontal scrolling on a phone',
  )
  await page.screenshot({ path: path.join(ARTIFACTS, 'admin-phone.png'), fullPage: true })
  await page.setViewportSize({ width: 1280, height: 860 })

  // The access token lives 30 s: by now it was refreshed, and the console still works with the new one.
  if (refreshes.length === 0)
    await page.waitForResponse((r) => r.url().endsWith('/v1/auth/refresh'), { timeout: 40_000 })
  t.ok(refreshes.length > 0 && refreshes.every((s) => s === 200), `tokens refreshed (${refreshes.join(', ')})`)
  await openPage(page, 'Audit log', 'Audit log')
  await page.locator('tr[data-action="admin.report_dismissed"]').first().waitFor(WAIT)
  await page.getByText('Live', { exact: true }).waitFor(WAIT)
  t.equal(tokensStored, 0, 'nothing in web storage before sign-in')
  t.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0, 'tokens never in web storage')

  // Sign out: back to the sign-in page; a normal user signing in stays there.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('button', { name: 'Sign in' }).waitFor(WAIT)
  await signIn(page, normal)
  await page.getByRole('alert').filter({ hasText: 'is not an admin' }).waitFor(WAIT)
  t.ok(await page.getByRole('button', { name: 'Sign in' }).isVisible(), 'a normal user stays on the sign-in page')

  t.same(problems, [], 'no script errors or CSP violations in the page')
})

void t.test("a normal user's token: /admin is the sign-in page, every admin call 403", async (t) => {
  const db = await testDatabase(t)
  const node = await startNode(t, db)
  const user = await aUser(node.app)
  const page = await fetch(`${node.url}/admin`, { headers: { authorization: `Bearer ${user.accessToken}` } })
  t.equal(page.status, 200)
  t.equal(page.headers.get('content-security-policy'), CONSOLE_CSP)
  const body = await page.text()
  t.match(body, '<script type="module" src="/admin/app.js">', 'the console, which starts at its sign-in form')
  t.notMatch(body, /<script>|style=/, 'no inline script or style')
  const doc = (await call(node.app, 'GET', '/docs/json')).json as unknown as {
    paths: Record<string, Record<string, unknown>>
  }
  const calls = Object.entries(doc.paths)
    .filter(([p]) => p.startsWith('/v1/admin/'))
    .flatMap(([p, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), p] as const))
  t.ok(calls.length >= 20, `the admin API (${calls.length} calls)`)
  const answers = await Promise.all(
    calls.map(async ([method, p]) => {
      const url = p.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000')
      const res = await call(node.app, method as 'GET', url, {
        token: user.accessToken,
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }),
      })
      return `${method} ${p} ${res.statusCode}`
    }),
  )
  t.same(
    answers.filter((a) => !a.endsWith(' 403')),
    [],
    'every admin call answers 403 to a normal user',
  )
  for (const asset of [
    '/admin/app.js',
    '/admin/console.css',
    '/admin/vendor/preact-htm.js',
    '/admin/vendor/uplot.js',
  ]) {
    const res = await fetch(`${node.url}${asset}`)
    t.equal(res.status, 200, asset)
    t.equal(res.headers.get('content-security-policy'), CONSOLE_CSP, `${asset} carries the CSP`)
  }
  const unknownVendor = await fetch(`${node.url}/admin/vendor/nope.js`)
  t.equal(unknownVendor.status, 404)
  t.match(unknownVendor.headers.get('content-type'), /problem\+json/, 'a problem, like every other 404')
  t.equal((await fetch(`${node.url}/admin/missing.js`)).status, 404)
  const api = await fetch(`${node.url}/health`)
  t.equal(api.headers.get('content-security-policy'), null, "the API's answers keep their own headers")
  t.equal(api.headers.get('x-content-type-options'), 'nosniff')
})
