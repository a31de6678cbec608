/**
 * Regenerates the SDK's types from the server's own OpenAPI document:
 * clients/typescript/openapi.json (the document, as /docs/json serves it) and
 * clients/typescript/src/schema.d.ts (openapi-typescript's types of it). Run it after changing
 * a route (`npm run sdk:generate`); the suite fails while they are stale (tests/sdk-types.test.ts).
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { openApiDocument, typesOf } from './document.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const doc = await openApiDocument()
await writeFile(`${root}openapi.json`, `${JSON.stringify(doc, null, 2)}\n`)
await writeFile(`${root}src/schema.d.ts`, await typesOf(doc))
console.error(`wrote ${root}openapi.json and ${root}src/schema.d.ts`)
