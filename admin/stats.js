// Marketplace stats with charts (uPlot on canvas), each with its numbers as a table too.
import { useEffect, useRef, useState } from '/admin/vendor/preact-htm.js'
import uPlot from '/admin/vendor/uplot.js'
import { api, qs } from './api.js'
import { html, money, Field, useLoad, Loaded, PageHeader } from './ui.js'

const DAY = 86_400_000
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10)

/** A uPlot chart that follows its container's width and is rebuilt when its data change. */
function Chart({ label, options, data }) {
  const box = useRef(null)
  useEffect(() => {
    const el = box.current
    const width = () => Math.max(280, el.clientWidth)
    const plot = new uPlot({ ...options, width: width(), height: 260 }, data, el)
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 260 }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      plot.destroy()
    }
  }, [data])
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`
}

/** Bars over named categories: x is the index, the axis shows the names. */
function barOptions(names, series, stroke, fill) {
  return {
    scales: {
      x: { time: false, range: [-0.5, names.length - 0.5] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
    },
    axes: [
      { values: (_u, splits) => splits.map((i) => names[i] ?? ''), splits: () => names.map((_n, i) => i), gap: 6 },
      {
        size: 70,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 1e6, 1e7],
      },
    ],
    series: [
      {},
      { label: series, stroke, fill, paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } },
    ],
    legend: { show: false },
    cursor: { show: false },
  }
}

export function StatsPage() {
  const today = Date.now()
  const [range, setRange] = useState({ from: isoDay(today - 29 * DAY), to: isoDay(today) })
  const stats = useLoad(
    () =>
      api(
        'GET',
        `/v1/admin/stats${qs({
          from: new Date(`${range.from}T00:00:00Z`).toISOString(),
          to: new Date(new Date(`${range.to}T00:00:00Z`).getTime() + DAY).toISOString(),
        })}`,
      ),
    [range.from, range.to],
  )
  const apply = (e) => {
    e.preventDefault()
    const form = Object.fromEntries(new FormData(e.currentTarget))
    setRange({ from: String(form.from), to: String(form.to) })
  }
  return html`<${PageHeader} title="Stats">Revenue by day, orders by status, top categories and sellers (UTC days).</${PageHeader}>
    <form class="toolbar" onSubmit=${apply} aria-label="Date range">
      <${Field} label="From" type="date" name="from" value=${range.from} required />
      <${Field} label="To (inclusive)" type="date" name="to" value=${range.to} required />
      <button type="submit" class="primary">Show</button>
    </form>
    <${Loaded} state=${stats}>${(s) => html`<${Figures} stats=${s} range=${range} />`}<//>`
}

function Figures({ stats, range }) {
  // Every day of the range, zero where nothing was paid, so the line does not skip days.
  const byDay = new Map(stats.revenueByDay.map((d) => [d.day, d]))
  const days = []
  for (let t = Date.parse(`${range.from}T00:00:00Z`); t <= Date.parse(`${range.to}T00:00:00Z`); t += DAY) days.push(t)
  const revenue = [
    days.map((t) => t / 1000),
    days.map((t) => (byDay.get(isoDay(t))?.gross ?? 0) / 100),
    days.map((t) => (byDay.get(isoDay(t))?.net ?? 0) / 100),
  ]
  const statuses = Object.keys(stats.ordersByPaymentStatus)
  const totals = Object.values(stats.revenueByDay).reduce(
    (acc, d) => ({ gross: acc.gross + d.gross, net: acc.net + d.net, orders: acc.orders + d.orders }),
    { gross: 0, net: 0, orders: 0 },
  )
  const naira = (_u, v) => (v == null ? '' : money(v * 100))
  return html`<p class="summary">
      <strong>${money(totals.gross)}</strong> paid in ${totals.orders} orders · <strong>${money(totals.net)}</strong> after refunds
    </p>
    <div class="grid">
      <figure class="card wide">
        <figcaption>Revenue by day (₦, gross and net of refunds)</figcaption>
        <${Chart}
          label="Revenue by day"
          data=${revenue}
          options=${{
            series: [
              { value: (_u, v) => (v == null ? '' : isoDay(v * 1000)) },
              { label: 'Gross', stroke: '#1d5fa8', width: 2, value: naira },
              { label: 'Net', stroke: '#1b7a3a', width: 2, dash: [6, 4], value: naira },
            ],
            axes: [{}, { size: 80, values: (_u, splits) => splits.map((v) => money(v * 100).replace(/\.00$/, '')) }],
          }}
        />
      </figure>
      <figure class="card">
        <figcaption>Orders by payment status</figcaption>
        ${
          statuses.length === 0
            ? html`<p class="muted">No orders in this range.</p>`
            : html`<${Chart}
                label="Orders by payment status"
                data=${[statuses.map((_s, i) => i), statuses.map((s) => stats.ordersByPaymentStatus[s])]}
                options=${barOptions(
                  statuses.map((s) => s.replace(/_/g, ' ')),
                  'Orders',
                  '#5b3fa0',
                  'rgba(91,63,160,0.35)',
                )}
              />`
        }
      </figure>
      <figure class="card">
        <figcaption>Top categories by sales (₦)</figcaption>
        ${
          stats.topCategories.length === 0
            ? html`<p class="muted">No sales in this range.</p>`
            : html`<${Chart}
                label="Top categories by sales"
                data=${[stats.topCategories.map((_c, i) => i), stats.topCategories.map((c) => c.revenue / 100)]}
                options=${barOptions(
                  stats.topCategories.map((c) => c.name),
                  'Sales',
                  '#a3561b',
                  'rgba(163,86,27,0.35)',
                )}
              />`
        }
      </figure>
    </div>
    <div class="grid">
      <${Ranking}
        title="Top categories"
        rows=${stats.topCategories.map((c) => ({ name: c.name, value: c.revenue, extra: `${c.units} units` }))}
      />
      <${Ranking}
        title="Top sellers"
        rows=${stats.topSellers.map((s) => ({ name: s.name, href: `#/users/${s.sellerId}`, value: s.revenue, extra: `${s.orders} orders` }))}
      />
      <section class="card" aria-labelledby="by-status-h">
        <h2 id="by-status-h">Orders and shipments by status</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Payment status</th>
              <th scope="col">Orders</th>
            </tr>
          </thead>
          <tbody>
            ${statuses.map(
              (s) =>
                html`<tr key=${s}>
                  <td>${s.replace(/_/g, ' ')}</td>
                  <td>${stats.ordersByPaymentStatus[s]}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <table>
          <thead>
            <tr>
              <th scope="col">Shipment status</th>
              <th scope="col">Shipments</th>
            </tr>
          </thead>
          <tbody>
            ${Object.entries(stats.shipmentsByStatus).map(
              ([s, n]) =>
                html`<tr key=${s}>
                  <td>${s.replace(/_/g, ' ')}</td>
                  <td>${n}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
    </div>`
}

/** A ranked list with a bar (a <meter>, so it is announced and needs no inline style). */
function Ranking({ title, rows }) {
  const max = Math.max(1, ...rows.map((r) => r.value))
  const id = `rank-${title.replace(/\W+/g, '-').toLowerCase()}`
  return html`<section class="card" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    ${
      rows.length === 0
        ? html`<p class="muted">Nothing sold in this range.</p>`
        : html`<ol class="ranking">
            ${rows.map(
              (r, i) =>
                html`<li key=${i}>
                  <span class="rank-name">${r.href ? html`<a href=${r.href}>${r.name}</a>` : r.name}</span>
                  <meter min="0" max=${max} value=${r.value} aria-label=${`${r.name}: ${money(r.value)}`}></meter>
                  <span class="rank-value">${money(r.value)} · ${r.extra}</span>
                </li>`,
            )}
          </ol>`
    }
  </section>`
}
