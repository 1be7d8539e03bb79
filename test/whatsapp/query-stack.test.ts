// The Baileys patch (scripts/patches) makes promiseTimeout, behind every socket query (a keepalive
// every 30 s per session), capture its caller's stack without formatting it: formatting (through source
// maps under --enable-source-maps) was most of an idle keepalive's cost. A timeout still carries the
// stack, formatted when it is read.
import t from 'tap'
import { promiseTimeout } from '@whiskeysockets/baileys'

/** Counts stack formattings while fn runs (V8 calls Error.prepareStackTrace once per formatted stack). */
async function countFormats<T>(fn: () => Promise<T>): Promise<{ result: T; formats: number }> {
  const previous = Error.prepareStackTrace
  let formats = 0
  Error.prepareStackTrace = (err, frames) => {
    formats++
    return previous ? previous(err, frames) : `${String(err)}\n${frames.map((f) => `    at ${String(f)}`).join('\n')}`
  }
  try {
    const result = await fn()
    return { result, formats }
  } finally {
    Error.prepareStackTrace = previous
  }
}

t.test('a query answered in time formats no stack', async (t) => {
  const { result, formats } = await countFormats(() => promiseTimeout<number>(60_000, (resolve) => setImmediate(() => resolve(42))))
  t.equal(result, 42)
  t.equal(formats, 0, 'neither the query nor the cancelled delay formatted a stack')
})

t.test('a query that times out still says where it was made', async (t) => {
  async function queryFromHere() {
    return promiseTimeout<number>(5, () => undefined)
  }
  const err = await queryFromHere().then(
    () => null,
    (e: unknown) => e as { message: string; output: { statusCode: number }; data: { stack: string } },
  )
  t.ok(err, 'rejected')
  t.equal(err?.message, 'Timed Out')
  t.equal(err?.output.statusCode, 408)
  t.match(err?.data.stack, /queryFromHere/, 'the stack of the call is there when read')
})
