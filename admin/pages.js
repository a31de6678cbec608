// The console's pages. Each reads and acts through the public admin API only.
import { useEffect, useState } from '/admin/vendor/preact-htm.js'
import { api, qs } from './api.js'
import { onAdminEvent } from './live.js'
import {
  html,
  money,
  Time,
  Field,
  Notice,
  useAction,
  useLoad,
  Loaded,
  PageHeader,
  Badge,
  Pager,
  ConfirmButton,
  idempotencyKey,
} from './ui.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const post = (path, body, headers) => api('POST', path, body, headers)
const userLink = (id, text) => html`<a href=${`#/users/${id}`}>${text ?? id.slice(0, 8)}</a>`
const orderLink = (id, text) => html`<a href=${`#/orders/${id}`}>${text ?? id.slice(0, 8)}</a>`
/** Naira typed by a person → kobo; blank → undefined. */
const koboOf = (naira) => (String(naira ?? '').trim() === '' ? undefined : Math.round(Number(naira) * 100))

/** Calls `reload` when one of `events` arrives on the live connection, or when it reconnects (events may have been missed). */
function useLiveReload(events, reload) {
  useEffect(
    () => onAdminEvent((event) => (events.includes(event) || event === 'live:reconnected') && reload()),
    [reload],
  )
}

/** A status filter as a labelled select. */
function StatusSelect({ label = 'Status', value, options, onChange }) {
  return html`<${Field} as="select" label=${label} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
    ${options.map((o) => html`<option value=${o}>${o.replace(/_/g, ' ')}</option>`)}
  </${Field}>`
}

// ---------------------------------------------------------------- reviews

export function ReviewsPage() {
  const [status, setStatus] = useState('flagged')
  const [cursors, setCursors] = useState([])
  const action = useAction()
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(() => api('GET', `/v1/admin/reviews${qs({ status, cursor })}`), [status, cursor])
  useLiveReload(['admin:flag'], list.reload)
  const moderate = (review, what, verb) => ({
    run: action.run,
    action: async ({ note }) => {
      await post(`/v1/admin/reviews/${review.id}/moderate`, { action: what, note })
      list.reload()
    },
    done: `Review by ${review.buyer.name} ${verb}.`,
    fields: [{ name: 'note', label: 'Note for the audit log', as: 'textarea', required: true }],
  })
  return html`<${PageHeader} title="Flagged reviews">Reviews people flagged. Hidden reviews leave every rating at once.</${PageHeader}>
    <div class="toolbar">
      <${StatusSelect} label="Show" value=${status} options=${['flagged', 'visible', 'hidden']}
        onChange=${(v) => (setStatus(v), setCursors([]))} />
    </div>
    <${Notice} notice=${action.notice} />
    <${Loaded} state=${list} empty=${(d) => d.items.length === 0}>
      ${(data) =>
        html`<ul class="cards">
            ${data.items.map(
              (r) =>
                html`<li key=${r.id} class="card" data-review=${r.id}>
                  <h2 class="card-title">
                    ${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)} <span class="sr-only">${r.rating} of 5</span> by ${userLink(r.buyer.id, r.buyer.name)}
                  </h2>
                  <p class="quote">${r.body}</p>
                  <p class="meta">
                    <${Badge} tone=${r.status === 'hidden' ? 'bad' : 'ok'}>${r.status}<//>
                    ${' '}${r.openFlags} open flag${r.openFlags === 1 ? '' : 's'} · seller ${userLink(r.sellerId)} ·${' '}
                    ${r.listings.map((l) => l.title).join(', ')} · <${Time} at=${r.createdAt} />
                  </p>
                  ${
                    r.flags.length
                      ? html`<ul class="flags" aria-label="Flags">
                          ${r.flags.map(
                            (f, i) =>
                              html`<li key=${i}>
                                ${f.resolved ? html`<s>${f.reason}</s>` : f.reason} — ${userLink(f.userId)}
                              </li>`,
                          )}
                        </ul>`
                      : null
                  }
                  ${r.moderationNote ? html`<p class="meta">Moderator's note: ${r.moderationNote}</p>` : null}
                  <div class="actions">
                    ${
                      r.status === 'visible'
                        ? html`<${ConfirmButton}
                            label="Hide"
                            danger
                            title="Hide this review?"
                            message="It disappears from the seller's page and every average at once."
                            confirmLabel="Hide review"
                            ...${moderate(r, 'hide', 'hidden')}
                          />`
                        : html`<${ConfirmButton}
                            label="Restore"
                            title="Restore this review?"
                            confirmLabel="Restore review"
                            ...${moderate(r, 'restore', 'restored')}
                          />`
                    }
                    ${
                      r.openFlags > 0
                        ? html`<${ConfirmButton}
                            label="Dismiss flags"
                            title="Dismiss the flags?"
                            message="The review stays as it is; its open flags close."
                            confirmLabel="Dismiss flags"
                            ...${moderate(r, 'dismiss_flags', 'kept: flags dismissed')}
                          />`
                        : null
                    }
                  </div>
                </li>`,
            )}
          </ul>
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} />`}
    <//>`
}

// ---------------------------------------------------------------- reports

export function ReportsPage() {
  const [status, setStatus] = useState('open')
  const [cursors, setCursors] = useState([])
  const action = useAction()
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(() => api('GET', `/v1/admin/reports${qs({ status, cursor })}`), [status, cursor])
  useLiveReload(['admin:report'], list.reload)
  return html`<${PageHeader} title="Listing reports">Listings people reported. Removing one tells its seller why.</${PageHeader}>
    <div class="toolbar">
      <${StatusSelect} label="Show" value=${status} options=${['open', 'dismissed', 'actioned']}
        onChange=${(v) => (setStatus(v), setCursors([]))} />
    </div>
    <${Notice} notice=${action.notice} />
    <${Loaded} state=${list} empty=${(d) => d.items.length === 0}>
      ${(data) =>
        html`<ul class="cards">
            ${data.items.map(
              (r) =>
                html`<li key=${r.id} class="card" data-report=${r.id}>
                  <h2 class="card-title">${r.listing.title}</h2>
                  <p><strong>${r.reason}</strong>${r.detail ? `: ${r.detail}` : ''}</p>
                  <p class="meta">
                    <${Badge} tone=${r.listing.status === 'removed' ? 'bad' : 'neutral'}>listing ${r.listing.status}<//>
                    ${' '}${r.listing.openReports} open report${r.listing.openReports === 1 ? '' : 's'} · seller ${userLink(r.listing.sellerId)}${' '}
                    · reported by ${userLink(r.reporter.id, r.reporter.name)} · <${Time} at=${r.createdAt} />
                  </p>
                  ${r.resolutionNote ? html`<p class="meta">Resolution: ${r.resolutionNote}</p>` : null}
                  ${
                    r.status === 'open'
                      ? html`<div class="actions">
                          <${ConfirmButton}
                            label="Remove listing"
                            danger
                            title=${`Remove “${r.listing.title}”?`}
                            message="The listing leaves search and carts, its reports close and the seller is told the reason."
                            confirmLabel="Remove listing"
                            run=${action.run}
                            fields=${[{ name: 'reason', label: 'Reason (the seller sees it)', as: 'textarea', required: true }]}
                            action=${async ({ reason }) => {
                              await post(`/v1/admin/listings/${r.listing.id}/remove`, { reason })
                              list.reload()
                            }}
                            done=${`“${r.listing.title}” removed.`}
                          />
                          <${ConfirmButton}
                            label="Dismiss"
                            title="Dismiss this report?"
                            confirmLabel="Dismiss report"
                            run=${action.run}
                            fields=${[{ name: 'note', label: 'Note for the audit log', as: 'textarea', required: true }]}
                            action=${async ({ note }) => {
                              await post(`/v1/admin/reports/${r.id}/dismiss`, { note })
                              list.reload()
                            }}
                            done="Report dismissed."
                          />
                        </div>`
                      : null
                  }
                </li>`,
            )}
          </ul>
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} />`}
    <//>`
}

// ---------------------------------------------------------------- users

export function UsersPage() {
  const [query, setQuery] = useState({ q: '', banned: '' })
  const [cursors, setCursors] = useState([])
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(() => api('GET', `/v1/admin/users${qs({ ...query, cursor })}`), [query, cursor])
  const search = (e) => {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    setQuery({ q: String(form.get('q') ?? '').trim(), banned: String(form.get('banned') ?? '') })
    setCursors([])
  }
  return html`<${PageHeader} title="Users">Find people by name or email; open one to see their listings, orders and reports.</${PageHeader}>
    <form class="toolbar" role="search" onSubmit=${search}>
      <${Field} label="Name or email" type="search" name="q" />
      <${Field} as="select" label="Accounts" name="banned">
        <option value="">All</option><option value="true">Banned</option><option value="false">Not banned</option>
      </${Field}>
      <button type="submit" class="primary">Search</button>
    </form>
    <${Loaded} state=${list} empty=${(d) => d.items.length === 0}>
      ${(data) =>
        html`<div class="table-wrap">
            <table>
              <caption class="sr-only">
                Users
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">State</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                ${data.items.map(
                  (u) =>
                    html`<tr key=${u.id}>
                      <td>${userLink(u.id, u.name)}</td>
                      <td>${u.email}</td>
                      <td>${u.role}</td>
                      <td>
                        ${u.bannedAt ? html`<${Badge} tone="bad">banned<//>` : html`<${Badge} tone="ok">active<//>`}
                      </td>
                      <td><${Time} at=${u.createdAt} /></td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} />`}
    <//>`
}

export function UserPage({ id }) {
  const action = useAction()
  const detail = useLoad(
    () =>
      Promise.all([
        api('GET', `/v1/admin/users/${encodeURIComponent(id)}`),
        api('GET', `/v1/admin/orders${qs({ buyerId: id, limit: 20 })}`),
        api('GET', `/v1/admin/orders${qs({ sellerId: id, limit: 20 })}`),
      ]),
    [id],
  )
  return html`<${Loaded} state=${detail}>
    ${([
      d,
      orders,
      sales,
    ]) => html`<${PageHeader} title=${d.user.name}>${d.user.email} · ${d.user.role} · joined <${Time} at=${d.user.createdAt} /></${PageHeader}>
      <p><a href="#/users">← All users</a></p>
      <${Notice} notice=${action.notice} />
      <section class="card" aria-labelledby="account-h">
        <h2 id="account-h">Account</h2>
        <p>
          ${
            d.user.bannedAt
              ? html`<${Badge} tone="bad">banned<//> since <${Time} at=${d.user.bannedAt} />: ${d.user.banReason}`
              : html`<${Badge} tone="ok">active<//>`
          }
          ${' '}${d.emailVerified ? 'Email verified.' : 'Email not verified.'}
        </p>
        <p class="meta">${d.counts.listings} listings · ${d.counts.ordersAsBuyer} orders · ${d.counts.reportsAgainst} reports on
          their listings · ${d.counts.reportsMade} reports made</p>
        <div class="actions">
          ${
            d.user.role === 'admin'
              ? html`<p class="muted">Admins cannot be banned.</p>`
              : d.user.bannedAt
                ? html`<${ConfirmButton}
                    label="Unban"
                    title=${`Lift ${d.user.name}'s ban?`}
                    confirmLabel="Unban"
                    run=${action.run}
                    fields=${[{ name: 'note', label: 'Note (optional)', as: 'textarea' }]}
                    action=${async ({ note }) => {
                      await post(`/v1/admin/users/${id}/unban`, note ? { note } : {})
                      detail.reload()
                    }}
                    done=${`${d.user.name} unbanned: they can sign in and their listings are back.`}
                  />`
                : html`<${ConfirmButton}
                    label="Ban"
                    danger
                    title=${`Ban ${d.user.name}?`}
                    message="Their sessions end at once and their listings and wants leave every public page."
                    confirmLabel="Ban user"
                    run=${action.run}
                    fields=${[{ name: 'reason', label: 'Reason', as: 'textarea', required: true }]}
                    action=${async ({ reason }) => {
                      await post(`/v1/admin/users/${id}/ban`, { reason })
                      detail.reload()
                    }}
                    done=${`${d.user.name} banned: signed out everywhere, listings hidden.`}
                  />`
          }
        </div>
      </section>
      <section aria-labelledby="listings-h">
        <h2 id="listings-h">Listings</h2>
        ${
          d.listings.length === 0
            ? html`<p class="muted">No listings.</p>`
            : html`<div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Title</th>
                      <th scope="col">Status</th>
                      <th scope="col">Price</th>
                      <th scope="col">Open reports</th>
                      <th scope="col">Listed</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${d.listings.map(
                      (l) =>
                        html`<tr key=${l.id}>
                          <td>${l.title}</td>
                          <td>${l.status}${l.hiddenByBan ? html` <${Badge} tone="bad">hidden by ban<//>` : null}</td>
                          <td>${money(l.price, l.currency)}</td>
                          <td>${l.openReports}</td>
                          <td><${Time} at=${l.createdAt} /></td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
      </section>
      <section aria-labelledby="orders-h">
        <h2 id="orders-h">Orders</h2>
        <${OrderTable} caption="Bought (newest 20)" orders=${orders.items} />
        <${OrderTable} caption="Sold: orders with their lines (newest 20)" orders=${sales.items} />
      </section>
      <section aria-labelledby="reports-h">
        <h2 id="reports-h">Reports</h2>
        <${ReportTable} caption="On their listings" reports=${d.reportsAgainst} />
        <${ReportTable} caption="Made by them" reports=${d.reportsMade} />
      </section>`}
  <//>`
}

function OrderTable({ caption, orders }) {
  return html`<div class="table-wrap"><table>
    <caption>${caption}</caption>
    <thead><tr><th scope="col">Order (reference)</th><th scope="col">Payment</th><th scope="col">Total</th><th scope="col">Placed</th></tr></thead>
    <tbody>${
      orders.length === 0
        ? html`<tr><td colspan="4" class="muted">None.</td></tr>`
        : orders.map(
            (o) => html`<tr key=${o.id}><td>${orderLink(o.id, o.payment?.reference ?? o.id.slice(0, 8))}</td>
            <td>${o.paymentStatus.replace(/_/g, ' ')}</td><td>${money(o.total, o.currency)}</td><td><${Time} at=${o.createdAt} /></td></tr>`,
          )
    }</tbody>
  </table></div>`
}

function ReportTable({ caption, reports }) {
  return html`<div class="table-wrap">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">Listing</th>
          <th scope="col">Reason</th>
          <th scope="col">Status</th>
          <th scope="col">When</th>
        </tr>
      </thead>
      <tbody>
        ${
          reports.length === 0
            ? html`<tr>
                <td colspan="4" class="muted">None.</td>
              </tr>`
            : reports.map(
                (r) =>
                  html`<tr key=${r.id}>
                    <td>${r.listingTitle}</td>
                    <td>${r.reason}${r.detail ? `: ${r.detail}` : ''}</td>
                    <td>${r.status}</td>
                    <td><${Time} at=${r.createdAt} /></td>
                  </tr>`,
              )
        }
      </tbody>
    </table>
  </div>`
}

// ---------------------------------------------------------------- orders

/** An order by id (GET /v1/orders/:id) or by its Paystack reference (GET /v1/admin/orders?reference=). */
async function findOrder(idOrReference) {
  if (UUID.test(idOrReference)) return api('GET', `/v1/orders/${idOrReference}`)
  const page = await api('GET', `/v1/admin/orders${qs({ reference: idOrReference })}`)
  if (!page.items[0]) throw new Error(`No order has the payment reference “${idOrReference}”.`)
  return page.items[0]
}

export function OrdersPage({ id }) {
  const lookup = (e) => {
    e.preventDefault()
    const value = String(new FormData(e.currentTarget).get('order') ?? '').trim()
    if (value) location.hash = `#/orders/${encodeURIComponent(value)}`
  }
  return html`<${PageHeader} title="Orders">Look an order up by its id or its Paystack reference; refund it in full or in part.</${PageHeader}>
    <form class="toolbar" role="search" onSubmit=${lookup}>
      <${Field} wide label="Order id or Paystack reference" name="order" value=${id ?? ''} required />
      <button type="submit" class="primary">Look up</button>
    </form>
    ${id ? html`<${OrderDetail} key=${id} idOrReference=${id} />` : null}`
}

function OrderDetail({ idOrReference }) {
  const action = useAction()
  const state = useLoad(async () => {
    const order = await findOrder(idOrReference)
    const audit = await api('GET', `/v1/admin/audit-log${qs({ targetType: 'order', targetId: order.id, limit: 50 })}`)
    return { order, audit: audit.items }
  }, [idOrReference])
  return html`<${Notice} notice=${action.notice} />
    <${Loaded} state=${state}>
      ${({ order: o, audit }) => {
        const refundable = o.total - o.refundedAmount
        return html`<section class="card" aria-labelledby="order-h" data-order=${o.id}>
            <h2 id="order-h">Order ${o.id.slice(0, 8)}</h2>
            <dl class="facts">
              <dt>Payment</dt>
              <dd>
                <${Badge} tone=${o.paymentStatus === 'paid' ? 'ok' : 'neutral'}
                  >${o.paymentStatus.replace(/_/g, ' ')}<//
                >
              </dd>
              <dt>Buyer</dt>
              <dd>${userLink(o.buyerId)}</dd>
              <dt>Total</dt>
              <dd>${money(o.total, o.currency)}${o.discount ? ` (discount ${money(o.discount)})` : ''}</dd>
              <dt>Refunded</dt>
              <dd data-refunded>${money(o.refundedAmount, o.currency)}</dd>
              <dt>Reference</dt>
              <dd>${o.payment?.reference ?? '—'} ${o.payment ? `(${o.payment.status})` : ''}</dd>
              <dt>Placed</dt>
              <dd><${Time} at=${o.createdAt} /></dd>
              <dt>Paid</dt>
              <dd><${Time} at=${o.paidAt} /></dd>
            </dl>
            <div class="actions">
              <${ConfirmButton}
                label="Refund"
                danger
                disabled=${refundable <= 0 || !['paid', 'partially_refunded'].includes(o.paymentStatus)}
                title="Refund this order?"
                message=${`Up to ${money(refundable, o.currency)} can be refunded through Paystack. Leave the amount empty to refund all of it.`}
                confirmLabel="Refund"
                run=${action.run}
                fields=${[
                  {
                    name: 'amount',
                    label: 'Amount in naira (empty: all of it)',
                    type: 'number',
                    min: '0.01',
                    step: '0.01',
                  },
                  { name: 'reason', label: 'Reason', as: 'textarea', required: true },
                ]}
                action=${async ({ amount, reason }) => {
                  const kobo = koboOf(amount)
                  const res = await post(
                    `/v1/admin/orders/${o.id}/refund`,
                    { ...(kobo ? { amount: kobo } : {}), reason },
                    { 'idempotency-key': idempotencyKey() },
                  )
                  state.reload()
                  return res
                }}
                done=${(res) => `Refund of ${money(res.refund.amount, res.refund.currency)} ${res.refund.status === 'pending' ? 'queued: Paystack is unreachable, it will be retried' : 'sent to Paystack'}. The order is now ${res.order.paymentStatus.replace(/_/g, ' ')}.`}
              />
            </div>
          </section>
          <section aria-labelledby="items-h">
            <h2 id="items-h">Lines</h2>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Item</th>
                    <th scope="col">Seller</th>
                    <th scope="col">Qty</th>
                    <th scope="col">Line total</th>
                  </tr>
                </thead>
                <tbody>
                  ${o.items.map(
                    (i) =>
                      html`<tr key=${i.id}>
                        <td>${i.title}</td>
                        <td>${userLink(i.sellerId)}</td>
                        <td>${i.quantity}</td>
                        <td>${money(i.lineTotal, o.currency)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="refunds-h">
            <h2 id="refunds-h">Refunds</h2>
            ${
              o.refunds.length === 0
                ? html`<p class="muted">No refunds.</p>`
                : html`<div class="table-wrap">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">Amount</th>
                          <th scope="col">Status</th>
                          <th scope="col">Origin</th>
                          <th scope="col">Reason</th>
                          <th scope="col">When</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${o.refunds.map(
                          (r) =>
                            html`<tr key=${r.id}>
                              <td>${money(r.amount, r.currency)}</td>
                              <td>${r.status}</td>
                              <td>${r.origin}</td>
                              <td>${r.reason}</td>
                              <td><${Time} at=${r.createdAt} /></td>
                            </tr>`,
                        )}
                      </tbody>
                    </table>
                  </div>`
            }
          </section>
          <section aria-labelledby="payhist-h">
            <h2 id="payhist-h">Payment history</h2>
            <${AuditTable} items=${audit} caption="Audit rows of this order" />
          </section>
          <section aria-labelledby="ship-h">
            <h2 id="ship-h">Shipments</h2>
            ${o.shipments.map(
              (s) =>
                html`<div key=${s.id} class="card">
                  <h3>Shipment ${s.id.slice(0, 8)} from ${userLink(s.sellerId)}: ${s.status.replace(/_/g, ' ')}</h3>
                  <ol class="history">
                    ${s.history.map(
                      (h, i) =>
                        html`<li key=${i}>
                          <${Time} at=${h.createdAt} />: ${h.fromStatus ? `${h.fromStatus} → ` : ''}${h.status}
                          ${h.trackingNumber ? ` · ${h.carrier ?? ''} ${h.trackingNumber}` : ''}${h.note ? ` · ${h.note}` : ''}
                        </li>`,
                    )}
                  </ol>
                </div>`,
            )}
          </section>`
      }}
    <//>`
}

// ---------------------------------------------------------------- disputes and payouts

export function MoneyPage() {
  return html`<${PageHeader} title="Disputes & payouts">Open disputes to decide, and payouts that failed or wait.</${PageHeader}>
    <${Disputes} />
    <${Payouts} />`
}

function Disputes() {
  const [status, setStatus] = useState('open')
  const [cursors, setCursors] = useState([])
  const action = useAction()
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(() => api('GET', `/v1/admin/disputes${qs({ status, cursor })}`), [status, cursor])
  useLiveReload(['admin:dispute'], list.reload)
  return html`<section aria-labelledby="disputes-h">
    <h2 id="disputes-h">Disputes</h2>
    <div class="toolbar">
      <${StatusSelect}
        label="Disputes to show"
        value=${status}
        options=${['open', 'resolved']}
        onChange=${(v) => (setStatus(v), setCursors([]))}
      />
    </div>
    <${Notice} notice=${action.notice} />
    <${Loaded} state=${list} empty=${(d) => d.items.length === 0}>
      ${(data) =>
        html`<ul class="cards">
            ${data.items.map(
              (d) =>
                html`<li key=${d.id} class="card" data-dispute=${d.id}>
                  <h3 class="card-title">${d.reason.replace(/_/g, ' ')} · order ${orderLink(d.orderId)}</h3>
                  <p class="quote">${d.detail}</p>
                  <p class="meta">
                    buyer ${userLink(d.buyerId)} · seller ${userLink(d.sellerId)} · <${Time} at=${d.createdAt} />
                    ${d.outcome ? html` · <${Badge} tone="neutral">${d.outcome}<//>${d.refundAmount ? ` ${money(d.refundAmount)}` : ''}` : null}
                  </p>
                  ${
                    d.status === 'open'
                      ? html`<div class="actions">
                          <${ConfirmButton}
                            label="Resolve"
                            danger
                            title="Resolve this dispute?"
                            message="Release pays the seller; refund returns the shipment's share to the buyer; split refunds the amount and releases the rest."
                            confirmLabel="Resolve dispute"
                            run=${action.run}
                            fields=${[
                              {
                                name: 'outcome',
                                label: 'Outcome',
                                as: 'select',
                                value: 'release',
                                options: [
                                  { value: 'release', label: 'Release to the seller' },
                                  { value: 'refund', label: 'Refund the buyer' },
                                  { value: 'split', label: 'Split' },
                                ],
                              },
                              {
                                name: 'refundAmount',
                                label: 'Refund in naira (split only)',
                                type: 'number',
                                min: '0.01',
                                step: '0.01',
                              },
                              { name: 'note', label: 'Note (both sides see it)', as: 'textarea', required: true },
                            ]}
                            action=${async ({ outcome, refundAmount, note }) => {
                              const kobo = outcome === 'split' ? koboOf(refundAmount) : undefined
                              await post(
                                `/v1/admin/disputes/${d.id}/resolve`,
                                { outcome, note, ...(kobo ? { refundAmount: kobo } : {}) },
                                { 'idempotency-key': idempotencyKey() },
                              )
                              list.reload()
                            }}
                            done="Dispute resolved."
                          />
                        </div>`
                      : null
                  }
                </li>`,
            )}
          </ul>
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} label="Dispute pages" />`}
    <//>
  </section>`
}

function Payouts() {
  const [status, setStatus] = useState('failed')
  const [cursors, setCursors] = useState([])
  const action = useAction()
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(() => api('GET', `/v1/admin/payouts${qs({ status, cursor })}`), [status, cursor])
  return html`<section aria-labelledby="payouts-h">
    <h2 id="payouts-h">Payouts</h2>
    <div class="toolbar">
      <${StatusSelect}
        label="Payouts to show"
        value=${status}
        options=${['failed', 'pending', 'processing', 'reversed', 'paid']}
        onChange=${(v) => (setStatus(v), setCursors([]))}
      />
    </div>
    <${Notice} notice=${action.notice} />
    <${Loaded} state=${list} empty=${(d) => d.items.length === 0}>
      ${(data) =>
        html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Seller</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Problem</th>
                  <th scope="col">Requested</th>
                  <th scope="col"><span class="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${data.items.map(
                  (p) =>
                    html`<tr key=${p.id}>
                      <td>${userLink(p.sellerId)}</td>
                      <td>${money(p.amount, p.currency)}</td>
                      <td>${p.status}</td>
                      <td>${p.attempts}</td>
                      <td>${p.failureReason ?? p.lastError ?? '—'}</td>
                      <td><${Time} at=${p.createdAt} /></td>
                      <td>
                        ${
                          ['pending', 'processing'].includes(p.status)
                            ? html`<${ConfirmButton}
                                label="Retry"
                                title="Send this payout again?"
                                message="The same transfer reference is used: Paystack never pays it twice."
                                confirmLabel="Retry payout"
                                run=${action.run}
                                action=${async () => {
                                  const res = await post(`/v1/admin/payouts/${p.id}/retry`, {})
                                  list.reload()
                                  return res
                                }}
                                done=${(res) => `Payout retried: now ${res.status}.`}
                              />`
                            : null
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} label="Payout pages" />`}
    <//>
  </section>`
}

// ---------------------------------------------------------------- audit log

function AuditTable({ items, caption }) {
  if (items.length === 0) return html`<p class="muted">No audit rows.</p>`
  return html`<div class="table-wrap">
    <table class="audit">
      <caption class="sr-only">
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">By</th>
          <th scope="col">Note</th>
          <th scope="col">Change</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (a) =>
            html`<tr key=${a.id} data-action=${a.action}>
              <td><${Time} at=${a.createdAt} /></td>
              <td><code>${a.action}</code></td>
              <td>
                ${a.targetType}${' '}${a.targetType === 'user' ? userLink(a.targetId) : a.targetType === 'order' ? orderLink(a.targetId) : a.targetId.slice(0, 8)}
              </td>
              <td>${a.actorId ? userLink(a.actorId) : 'system'}${a.actorRole ? ` (${a.actorRole})` : ''}</td>
              <td>${a.note ?? ''}</td>
              <td>
                <details>
                  <summary>Before / after</summary>
                  <pre>${JSON.stringify({ before: a.before, after: a.after }, null, 2)}</pre>
                </details>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`
}

export function AuditPage() {
  const [filters, setFilters] = useState({})
  const [cursors, setCursors] = useState([])
  const cursor = cursors[cursors.length - 1]
  const list = useLoad(
    () => api('GET', `/v1/admin/audit-log${qs({ ...filters, cursor, limit: 25 })}`),
    [filters, cursor],
  )
  const apply = (e) => {
    e.preventDefault()
    const form = Object.fromEntries(new FormData(e.currentTarget))
    const day = (v, end) => (v ? new Date(`${v}T00:00:00Z`).getTime() + (end ? 86_400_000 : 0) : undefined)
    setFilters({
      action: form.action?.trim(),
      targetType: form.targetType?.trim(),
      targetId: form.targetId?.trim(),
      actorId: form.actorId?.trim(),
      from: form.from ? new Date(day(form.from)).toISOString() : undefined,
      to: form.to ? new Date(day(form.to, true)).toISOString() : undefined,
    })
    setCursors([])
  }
  return html`<${PageHeader} title="Audit log">Every payment state change and admin action, newest first. It cannot be edited.</${PageHeader}>
    <form class="toolbar filters" onSubmit=${apply} aria-label="Filters">
      <${Field} label="Action" name="action" placeholder="admin.user_banned" />
      <${Field} label="Target type" name="targetType" placeholder="order, user, review…" />
      <${Field} label="Target id" name="targetId" />
      <${Field} label="Actor id" name="actorId" />
      <${Field} label="From (UTC day)" type="date" name="from" />
      <${Field} label="To (UTC day, inclusive)" type="date" name="to" />
      <button type="submit" class="primary">Filter</button>
    </form>
    <${Loaded} state=${list}>
      ${(data) =>
        html`<${AuditTable} items=${data.items} caption="Audit rows" />
          <${Pager} nextCursor=${data.nextCursor} cursors=${cursors} setCursors=${setCursors} label="Audit pages" />`}
    <//>`
}
