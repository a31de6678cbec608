// A tiny component library for the console: Preact components written with htm (no build step).
import { html, useEffect, useRef, useState, useCallback } from '/admin/vendor/preact-htm.js'

export { html }

const naira = new Intl.NumberFormat('en-NG', { style: 'currency', currency: 'NGN' })
/** Kobo → "₦1,234.50". */
export const money = (kobo, currency = 'NGN') =>
  currency === 'NGN' ? naira.format(kobo / 100) : `${(kobo / 100).toFixed(2)} ${currency}`
/** An ISO time, readable and with its machine value. */
export const Time = ({ at }) =>
  at ? html`<time datetime=${at}>${new Date(at).toLocaleString('en-GB', { timeZone: 'UTC' })} UTC</time>` : '—'

/** Stable ids for label/input pairs. */
let nextId = 0
export const useId = (prefix = 'f') => useRef(`${prefix}-${++nextId}`).current

/** A labelled input (or textarea / select; `wide` for long values); extra props go to the control. */
export function Field({ label, hint, as = 'input', wide, children, ...props }) {
  const id = useId()
  const hintId = hint ? `${id}-hint` : undefined
  const control =
    as === 'textarea'
      ? html`<textarea id=${id} aria-describedby=${hintId} ...${props}></textarea>`
      : as === 'select'
        ? html`<select id=${id} aria-describedby=${hintId} ...${props}>
            ${children}
          </select>`
        : html`<input id=${id} aria-describedby=${hintId} ...${props} />`
  return html`<div class=${wide ? 'field field-wide' : 'field'}>
    <label for=${id}>${label}</label>${control}${hint ? html`<small id=${hintId}>${hint}</small>` : null}
  </div>`
}

/** The message area every action reports to: a confirmation (status) or the problem's detail (alert). */
export function Notice({ notice }) {
  if (!notice) return html`<div class="notice-slot" role="status" aria-live="polite"></div>`
  return notice.kind === 'error'
    ? html`<div class="notice notice-error" role="alert">${notice.text}</div>`
    : html`<div class="notice notice-ok" role="status" aria-live="polite">${notice.text}</div>`
}

/**
 * An action's life: `run(fn, done)` calls fn, then shows `done` (or the value fn returns)
 * as a confirmation, or the problem's detail as an alert.
 */
export function useAction() {
  const [notice, setNotice] = useState(null)
  const [busy, setBusy] = useState(false)
  const run = useCallback(async (fn, done) => {
    setBusy(true)
    setNotice(null)
    try {
      const result = await fn()
      const text = typeof done === 'function' ? done(result) : done
      if (text) setNotice({ kind: 'ok', text })
      return result
    } catch (err) {
      setNotice({ kind: 'error', text: err?.message || String(err) })
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { notice, busy, run, setNotice }
}

/**
 * A modal confirmation (a native <dialog>: focus stays inside, Escape cancels). `fields`
 * are asked for in it (a note, a reason, an amount); `onConfirm(values)` runs on "confirm".
 */
export function ConfirmDialog({ open, title, message, confirmLabel, danger, fields = [], onConfirm, onClose }) {
  const ref = useRef(null)
  const titleId = useId('dlg')
  const [values, setValues] = useState({})
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    if (open && !dialog.open) {
      setValues(Object.fromEntries(fields.map((f) => [f.name, f.value ?? ''])))
      dialog.showModal()
    }
    if (!open && dialog.open) dialog.close()
  }, [open])
  const submit = (e) => {
    e.preventDefault()
    onConfirm(values)
  }
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onClose=${onClose} onCancel=${onClose}>
    <form method="dialog" onSubmit=${submit}>
      <h2 id=${titleId}>${title}</h2>
      ${message ? html`<p>${message}</p>` : null}
      ${fields.map(
        (f) =>
          html`<${Field}
            key=${f.name}
            label=${f.label}
            hint=${f.hint}
            as=${f.as ?? 'input'}
            type=${f.as ? undefined : (f.type ?? 'text')}
            name=${f.name}
            required=${!!f.required}
            min=${f.min}
            step=${f.step}
            value=${values[f.name] ?? ''}
            onInput=${(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
          >${f.options?.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</${Field}>`,
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : 'primary'}>${confirmLabel}</button>
      </div>
    </form>
  </dialog>`
}

/**
 * A button that asks first: opens a ConfirmDialog, runs `action(values)` on confirm and
 * reports through `run` (from useAction).
 */
export function ConfirmButton({ label, title, message, confirmLabel, danger, fields, run, action, done, disabled }) {
  const [open, setOpen] = useState(false)
  return html`<button
      type="button"
      class=${danger ? 'danger' : 'secondary'}
      disabled=${disabled}
      onClick=${() => setOpen(true)}
    >
      ${label}
    </button>
    <${ConfirmDialog}
      open=${open}
      title=${title}
      message=${message}
      confirmLabel=${confirmLabel ?? label}
      danger=${danger}
      fields=${fields}
      onClose=${() => setOpen(false)}
      onConfirm=${(values) => {
        setOpen(false)
        void run(() => action(values), done)
      }}
    />`
}

/** Loads data with `load()` whenever `deps` change; `reload()` again on demand. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null })
  const seq = useRef(0)
  const reload = useCallback(() => {
    const mine = ++seq.current
    setState((s) => ({ ...s, loading: true, error: null }))
    load().then(
      (data) => mine === seq.current && setState({ loading: false, data, error: null }),
      (error) => mine === seq.current && setState({ loading: false, data: null, error }),
    )
  }, deps)
  useEffect(reload, [reload])
  return { ...state, reload }
}

/** What a loading list shows: a spinner text, the problem, or the content. */
export function Loaded({ state, children, empty }) {
  if (state.error) return html`<div class="notice notice-error" role="alert">${state.error.message}</div>`
  if (state.loading && !state.data) return html`<p class="muted" aria-busy="true">Loading…</p>`
  if (empty && empty(state.data)) return html`<p class="muted">Nothing here.</p>`
  return children(state.data)
}

/** A page's heading and intro; the heading takes focus when the page changes (for screen readers). */
export function PageHeader({ title, children }) {
  const ref = useRef(null)
  useEffect(() => ref.current?.focus(), [title])
  return html`<header class="page-header">
    <h1 tabindex="-1" ref=${ref}>${title}</h1>
    ${children ? html`<p class="muted">${children}</p>` : null}
  </header>`
}

/** A status label with a colour by meaning (never colour alone: the text says it). */
export const Badge = ({ tone = 'neutral', children }) => html`<span class=${`badge badge-${tone}`}>${children}</span>`

/** Previous/next over cursor pages: `cursors` is the stack of cursors that led here. */
export function Pager({ nextCursor, cursors, setCursors, label = 'Pages' }) {
  return html`<nav class="pager" aria-label=${label}>
    <button
      type="button"
      class="secondary"
      disabled=${cursors.length === 0}
      onClick=${() => setCursors(cursors.slice(0, -1))}
    >
      Previous page
    </button>
    <button
      type="button"
      class="secondary"
      disabled=${!nextCursor}
      onClick=${() => setCursors([...cursors, nextCursor])}
    >
      Next page
    </button>
  </nav>`
}

/** A new random Idempotency-Key for one action (a retried click replays it, never repeats it). */
export const idempotencyKey = () => crypto.randomUUID()
