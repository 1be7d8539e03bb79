// The request fingerprint of an idempotency key: the SHA-256 of the body as JSON with keys sorted, plus
// the upload's hash. It is computed piece by piece; here it is checked against that definition written
// plainly (what earlier versions stored, so keys claimed before an upgrade still match after it).
import { createHash } from 'node:crypto'
import t from 'tap'
import { requestFingerprint } from '../../src/messages/idempotency/types.js'

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)]))
  }
  return value
}
const byDefinition = (body: unknown, upload?: string) => createHash('sha256').update(JSON.stringify([sorted(body), upload ?? null])).digest('hex')

const bodies: Array<[string, unknown, string?]> = [
  ['text', { to: '15550002222', text: 'hello' }],
  ['quotes, backslashes, control characters', { to: '1', text: 'say "hi"\\ \n\t\u0001 end' }],
  ['accents and emoji (surrogate pairs)', { to: '1', text: 'café 👍🏽 日本' }],
  ['a lone surrogate', { to: '1', text: 'broken \ud83d here' }],
  ['nested, unsorted, undefined and null', { z: [3, undefined, { b: null, a: [true, false, 1.5] }], a: { y: undefined, x: 'x' }, n: -0, e: 1e21 }],
  ['base64 media', { to: '1', type: 'image', media: { base64: Buffer.alloc(150_000, 7).toString('base64') }, caption: 'a picture' }],
  ['multipart with an upload hash', { to: '1', type: 'document', media: { upload: 'file' } }, 'ab'.repeat(32)],
  ['empty object', {}],
]

t.test('equals the SHA-256 of the sorted JSON', async (t) => {
  for (const [name, body, upload] of bodies) t.equal(requestFingerprint(body, upload), byDefinition(body, upload), name)
})

t.test('a body parsed from JSON text without a backslash: the same fingerprint without checking its strings', async (t) => {
  let checked = 0
  for (const [name, body, upload] of bodies) {
    const text = JSON.stringify(body)
    if (text.includes('\\')) continue
    checked++
    t.equal(requestFingerprint(JSON.parse(text), upload, { escapeFree: true }), byDefinition(JSON.parse(text), upload), name)
  }
  t.ok(checked >= 5, `${checked} bodies without a backslash`)
})

t.test('key order does not matter; any other difference does', async (t) => {
  t.equal(requestFingerprint({ to: '1', text: 'a', quotedMessageId: 'Q' }), requestFingerprint({ quotedMessageId: 'Q', text: 'a', to: '1' }))
  t.not(requestFingerprint({ to: '1', text: 'a' }), requestFingerprint({ to: '1', text: 'b' }))
  t.not(requestFingerprint({ to: '1', text: 'a' }), requestFingerprint({ to: '1', text: 'a' }, 'cd'.repeat(32)), 'the upload counts')
  t.not(requestFingerprint({ to: '1', text: 'a"b' }), requestFingerprint({ to: '1', text: 'a\\"b' }), 'escapes are not confused')
})
