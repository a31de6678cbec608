import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ctxOf, routeLimit } from '../http/index.js'
import { AppError, StrictObject, problems } from '../shared/index.js'
import type { AccountsService } from './accounts.service.js'

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)

/** No script at all; the form may only post back here; no framing. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** `body` is trusted markup built here from escaped parts. */
function page(reply: FastifyReply, status: number, title: string, body: string) {
  return reply
    .code(status)
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>${escapeHtml(title)} · Oja</title></head>` +
        `<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem">` +
        `<h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    )
}

const p = (text: string) => `<p>${escapeHtml(text)}</p>`
const INVALID = 'This link is invalid, has expired or was already used. Ask the app for a new one.'
const MIN_PASSWORD = 8
const MAX_PASSWORD = 200

function resetForm(token: string, error?: string) {
  return (
    (error ? `<p role="alert"><strong>${escapeHtml(error)}</strong></p>` : '') +
    `<form method="post" action="/reset-password">` +
    `<input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<p><label for="password">New password</label><br>` +
    `<input id="password" name="password" type="password" autocomplete="new-password" required ` +
    `minlength="${MIN_PASSWORD}" maxlength="${MAX_PASSWORD}"></p>` +
    `<p><button type="submit">Set password</button></p></form>`
  )
}

const isInvalidToken = (err: unknown) => err instanceof AppError && err.code === 'INVALID_TOKEN'

/**
 * The pages behind the mailed links when they point at Oja itself (APP_LINK_BASE unset or
 * equal to PUBLIC_URL): `GET /verify-email?token=` verifies; `GET /reset-password?token=`
 * shows a form that posts (form-urlencoded, no script) to `POST /reset-password`. Same
 * services and rate limits as `/v1/auth/verify-email` and `/v1/auth/reset-password`.
 */
export const linkPages: FastifyPluginAsyncTypebox<{ accounts: AccountsService; rateLimitScale: number }> = async (
  app,
  { accounts, rateLimitScale },
) => {
  const tags = ['accounts']
  const limit = routeLimit(rateLimitScale, 20, '15 minutes')
  // The reset form posts an HTML form; only these pages read that type.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const params = new URLSearchParams(body as string)
    done(null, Object.fromEntries(params.entries()))
  })
  // A link without a well-formed token is not one of ours: a problem, like any bad request.
  const Token = Type.String({ minLength: 10, maxLength: 200 })
  const TokenQuery = Type.Object({ token: Token })
  // The pages are HTML (a spent or unknown link too: 400 text/html); malformed requests and
  // rate limits are problems like anywhere else.
  const html = {
    200: Type.String({ description: 'text/html' }),
    ...problems(429),
  }

  app.get(
    '/verify-email',
    {
      schema: {
        operationId: 'verifyEmailPage',
        tags,
        summary: 'The mailed verification link: verifies and says so (HTML)',
        querystring: TokenQuery,
        response: html,
      },
      config: { ...limit },
    },
    async (req, reply) => {
      const { token } = req.query
      try {
        const me = await accounts.verifyEmail(ctxOf(req), token)
        return page(reply, 200, 'Email verified', p(`Thank you: ${me.email} is confirmed. You can return to the app.`))
      } catch (err) {
        if (isInvalidToken(err)) return page(reply, 400, 'Email not verified', p(INVALID))
        throw err
      }
    },
  )

  app.get(
    '/reset-password',
    {
      schema: {
        operationId: 'resetPasswordPage',
        tags,
        summary: 'The mailed reset link: a form for the new password (HTML)',
        querystring: TokenQuery,
        response: html,
      },
      config: { ...limit },
    },
    async (req, reply) => {
      const { token } = req.query
      if (!(await accounts.resetTokenUsable(ctxOf(req), token))) return page(reply, 400, 'Reset password', p(INVALID))
      return page(reply, 200, 'Reset password', resetForm(token))
    },
  )

  app.post(
    '/reset-password',
    {
      schema: {
        operationId: 'submitResetPasswordPage',
        tags,
        summary: 'The reset form posts here (form-urlencoded token, password); answers HTML',
        consumes: ['application/x-www-form-urlencoded'],
        body: StrictObject({ token: Token, password: Type.String({ maxLength: 1000 }) }),
        response: html,
      },
      config: { ...limit },
    },
    async (req, reply) => {
      const { token, password } = req.body
      if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)
        return page(
          reply,
          400,
          'Reset password',
          resetForm(token, `Choose a password of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`),
        )
      try {
        await accounts.resetPassword(ctxOf(req), token, password)
      } catch (err) {
        if (isInvalidToken(err)) return page(reply, 400, 'Reset password', p(INVALID))
        throw err
      }
      return page(
        reply,
        200,
        'Password changed',
        p('Your new password is set and every device was signed out. Sign in again in the app.'),
      )
    },
  )
}
