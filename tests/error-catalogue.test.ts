import t from 'tap'
import { errorCatalogue } from '../src/shared/index.js'
import { build } from './helpers/app.js'

// Building the app imports every feature, and with it every `*.errors.ts`.
void t.test('the error catalogue: each code is defined once, with one status and one meaning', async (t) => {
  await build(t)
  const all = errorCatalogue()
  t.ok(all.length > 50, `the catalogue holds every feature's errors (${all.length})`)

  const byCode = new Map<string, string[]>()
  const byMeaning = new Map<string, string[]>()
  for (const d of all) {
    byCode.set(d.code, [...(byCode.get(d.code) ?? []), d.definedAt])
    const meaning = `${d.status} ${d.meaning.replace(/\s+/g, ' ').trim().toLowerCase()}`
    byMeaning.set(meaning, [...(byMeaning.get(meaning) ?? []), d.code])
  }
  const twiceDefined = [...byCode].filter(([, at]) => at.length > 1).map(([code, at]) => `${code}: ${at.join(' | ')}`)
  t.same(twiceDefined, [], 'no code has two definitions')
  const sameMeaning = [...byMeaning].filter(([, codes]) => codes.length > 1).map(([m, codes]) => `${codes}: ${m}`)
  t.same(sameMeaning, [], 'no two codes share a meaning')
  for (const d of all) t.match(d.code, /^[A-Z][A-Z0-9_]*$/, `${d.code} is SCREAMING_SNAKE`)
})
