// The Oja admin console: sign-in, then pages over the public admin API, with live counts.
import { render, useEffect, useRef, useState } from '/admin/vendor/preact-htm.js'
import { currentSession, onSession, signIn, signOut } from './api.js'
import { onAdminEvent, onLiveStatus } from './live.js'
import { html, Field, useAction, Notice } from './ui.js'
import { ReviewsPage, ReportsPage, UsersPage, UserPage, OrdersPage, MoneyPage, AuditPage } from './pages.js'
import { StatsPage } from './stats.js'

/** The pages, in the navigation's order; `live` names the admin event that counts on the link. */
const PAGES = [
  { path: 'reviews', label: 'Flagged reviews', live: 'admin:flag', component: ReviewsPage },
  { path: 'reports', label: 'Listing reports', live: 'admin:report', component: ReportsPage },
  { path: 'users', label: 'Users', component: UsersPage },
  { path: 'orders', label: 'Orders', component: OrdersPage },
  { path: 'money', label: 'Disputes & payouts', live: 'admin:dispute', component: MoneyPage },
  { path: 'audit', label: 'Audit log', component: AuditPage },
  { path: 'stats', label: 'Stats', component: StatsPage },
]

/** The hash route: #/users/<id> → { page: 'users', id }. */
function parseRoute() {
  const [page, id] = location.hash.replace(/^#\/?/, '').split('/')
  return { page: PAGES.some((p) => p.path === page) ? page : 'reviews', id: id ? decodeURIComponent(id) : undefined }
}

function SignIn() {
  const { notice, busy, run } = useAction()
  const submit = (e) => {
    e.preventDefault()
    const form = new FormData(e.currentTarget)
    void run(() => signIn(String(form.get('email')), String(form.get('password'))))
  }
  return html`<main id="main" class="signin">
    <form class="card" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Oja admin</h1>
      <p class="muted">Sign in with an admin account.</p>
      <${Field} label="Email" type="email" name="email" autocomplete="username" required />
      <${Field} label="Password" type="password" name="password" autocomplete="current-password" required />
      <${Notice} notice=${notice} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`
}

function Shell({ session }) {
  const [route, setRoute] = useState(parseRoute())
  const [counts, setCounts] = useState({})
  const [live, setLive] = useState(false)
  useEffect(() => {
    const onHash = () => setRoute(parseRoute())
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  const page = PAGES.find((p) => p.path === route.page)
  // What the open page shows live is seen already: only the other pages' links count.
  const shown = useRef(page.live)
  shown.current = page.live
  useEffect(
    () =>
      onAdminEvent((event) => {
        if (event.startsWith('admin:') && event !== shown.current)
          setCounts((c) => ({ ...c, [event]: (c[event] ?? 0) + 1 }))
      }),
    [],
  )
  useEffect(() => onLiveStatus(setLive), [])
  // Opening a page reads its new items: its count starts again.
  useEffect(() => {
    if (page.live) setCounts((c) => ({ ...c, [page.live]: 0 }))
  }, [page.path])
  const Page = route.page === 'users' && route.id ? UserPage : page.component
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Oja admin</span>
      <span class=${live ? 'live live-on' : 'live'} role="status">${live ? 'Live' : 'Offline'}</span>
      <span class="who">${session.user.email}</span>
      <button type="button" class="secondary" onClick=${() => void signOut()}>Sign out</button>
    </header>
    <nav class="side" aria-label="Console">
      <ul>
        ${PAGES.map((p) => {
          const n = p.live ? (counts[p.live] ?? 0) : 0
          return html`<li key=${p.path}>
            <a href=${`#/${p.path}`} aria-current=${p.path === route.page ? 'page' : undefined}>
              ${p.label}${n > 0 ? html` <span class="count" data-live=${p.live}>${n}<span class="sr-only"> new</span></span>` : null}
            </a>
          </li>`
        })}
      </ul>
    </nav>
    <main id="main" class="content" tabindex="-1">
      <${Page} key=${`${route.page}/${route.id ?? ''}`} id=${route.id} />
    </main>`
}

function App() {
  const [session, setSession] = useState(currentSession())
  useEffect(() => onSession(setSession), [])
  return session ? html`<${Shell} session=${session} />` : html`<${SignIn} />`
}

const root = document.getElementById('app')
root.textContent = ''
render(html`<${App} />`, root)
