/**
 * The house rules that `npm run lint` enforces, shown to fire: a deep import across
 * features, a floating promise, an ad hoc AppError, and an unformatted file.
 */
import { ESLint } from 'eslint'
import * as prettier from 'prettier'
import t from 'tap'

const root = new URL('..', import.meta.url).pathname
// The probes are linted as text under a path of the tree; the project service types them as loose files.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['src/*/lint-probe.ts', 'realtime/lint-probe.ts'] },
        tsconfigRootDir: root,
      },
    },
  },
})

async function rulesFiring(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message)
}

void t.test('a deep import into another feature fails the lint; its index.ts does not', async (t) => {
  const deep = "import { findListing } from '../listings/listings.service.js'\nexport const f = findListing\n"
  t.ok(
    (await rulesFiring(deep, `${root}src/wants/lint-probe.ts`)).includes('no-restricted-imports'),
    'src → another feature’s file',
  )
  const fromRealtime = "import type { ChatService } from '../src/chat/chat.service.js'\nexport type C = ChatService\n"
  t.ok(
    (await rulesFiring(fromRealtime, `${root}realtime/lint-probe.ts`)).includes('no-restricted-imports'),
    'realtime → a feature’s file',
  )
  // A folder's schemas file is public too (pure TypeBox: realtime/protocol.ts and its clients import it).
  const schemas = "import { Message } from '../src/chat/chat.schemas.js'\nexport const m = Message\n"
  t.same(await rulesFiring(schemas, `${root}realtime/lint-probe.ts`), [], 'realtime → a feature’s schemas file passes')
  const shared = "import { Id } from '../shared/schemas.js'\nexport const i = Id\n"
  t.same(await rulesFiring(shared, `${root}src/chat/lint-probe.ts`), [], 'a feature → shared/schemas.ts passes')
  const notSchemas = "import { x } from '../chat/chat.schemas.helpers.js'\nexport const y = x\n"
  t.ok(
    (await rulesFiring(notSchemas, `${root}src/wants/lint-probe.ts`)).includes('no-restricted-imports'),
    'a file merely named like one does not',
  )
  const viaIndex = "import { findListing } from '../listings/index.js'\nexport const f = findListing\n"
  t.same(await rulesFiring(viaIndex, `${root}src/wants/lint-probe.ts`), [], 'through index.ts it passes')
  const seeds = "import { seedDemo } from '../../seeds/demo.js'\nexport const s = seedDemo\n"
  t.ok(
    (await rulesFiring(seeds, `${root}src/chat/lint-probe.ts`)).includes('no-restricted-imports'),
    'a feature importing seeds',
  )
})

void t.test('a floating promise and an ad hoc AppError fail the lint', async (t) => {
  const floating = 'export async function f(): Promise<void> {}\nexport function g(): void {\n  f()\n}\n'
  t.ok(
    (await rulesFiring(floating, `${root}src/jobs/lint-probe.ts`)).includes('@typescript-eslint/no-floating-promises'),
    'floating promise',
  )
  const adHoc = "import { AppError } from '../shared/index.js'\nexport const e = new AppError('NEW_CODE', 400, 'x')\n"
  t.ok((await rulesFiring(adHoc, `${root}src/jobs/lint-probe.ts`)).includes('no-restricted-syntax'), 'new AppError')
})

void t.test('an unformatted file fails the format check; a formatted one passes', async (t) => {
  const options = { ...(await prettier.resolveConfig(`${root}src/app.ts`)), filepath: `${root}src/x.ts` }
  t.equal(await prettier.check('export const a = {b:1};\n', options), false, 'unformatted')
  t.equal(await prettier.check('export const a = { b: 1 }\n', options), true, 'formatted')
})
