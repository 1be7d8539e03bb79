// The media URL fetcher against a local HTTPS server: redirects bounded and re-checked, names and
// addresses checked by the guard, the announced size, and the time limit on a manual clock.
import t from 'tap'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { text } from 'node:stream/consumers'
import { createMediaFetcher } from '../../src/messages/media/fetch.js'
import { createAddressGuard } from '../../src/messages/media/guard.js'
import { MessageError } from '../../src/messages/errors.js'
import { MEDIA_TLS_CERT, MEDIA_TLS_KEY } from '../fake-whatsapp/media-tls.js'
import { TEST_CA } from '../fake-whatsapp/media-redirect.js'
import { createManualClock } from '../helpers/manual-clock.js'

const code = (err: unknown) => (err instanceof MessageError ? err.code : String(err))

t.test('fetching media URLs', async (t) => {
  const stalled: Array<() => void> = []
  const server = createServer({ key: MEDIA_TLS_KEY, cert: MEDIA_TLS_CERT }, (req, res) => {
    const url = req.url ?? '/'
    if (url === '/file') return res.end('the file')
    if (url.startsWith('/hop/')) {
      const n = Number(url.slice(5))
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/file' })
      return res.end()
    }
    if (url === '/to-loopback') {
      res.writeHead(302, { location: `https://127.0.0.1:${port}/file` })
      return res.end()
    }
    if (url === '/huge') {
      res.writeHead(200, { 'content-length': '999999999' })
      return res.end()
    }
    if (url === '/stall') {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial')
      stalled.push(() => res.destroy())
      return
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve))
  const port = (server.address() as AddressInfo).port
  t.teardown(() => new Promise<void>((resolve) => { for (const s of stalled) s(); server.closeAllConnections(); server.close(() => resolve()) }))
  const clock = createManualClock()
  const fetcher = createMediaFetcher({
    guard: createAddressGuard(['127.0.0.2']), timeoutMs: 5000, maxRedirects: 3, maxBytes: 1000, agentOptions: { ca: TEST_CA },
  })
  t.teardown(() => fetcher.close())
  const base = `https://127.0.0.2:${port}`
  const open = (url: string) => fetcher.open(url, clock)

  t.equal(await text((await open(`${base}/file`)).body), 'the file')
  t.equal(await text((await open(`${base}/hop/2`)).body), 'the file', 'three redirects are fine')
  t.equal(code(await open(`${base}/hop/3`).catch((e: unknown) => e)), 'MEDIA_FETCH_FAILED', 'four are not')
  t.equal(code(await open(`${base}/to-loopback`).catch((e: unknown) => e)), 'MEDIA_URL_REFUSED', 'a redirect to loopback is refused')
  t.equal(code(await open(`https://localhost:${port}/file`).catch((e: unknown) => e)), 'MEDIA_URL_REFUSED', 'a name that resolves to loopback is refused at connect')
  t.equal(code(await open(`http://127.0.0.2:${port}/file`).catch((e: unknown) => e)), 'MEDIA_URL_REFUSED', 'plain http')
  t.equal(code(await open(`${base}/huge`).catch((e: unknown) => e)), 'MEDIA_TOO_LARGE', 'an announced size over the limit')
  t.equal(code(await open(`${base}/nothing`).catch((e: unknown) => e)), 'MEDIA_FETCH_FAILED', '404')
  t.equal(code(await open('not a url').catch((e: unknown) => e)), 'MEDIA_URL_REFUSED')

  const slow = await open(`${base}/stall`)
  const reading = text(slow.body).then(() => 'completed', (err: unknown) => `failed: ${String(err)}`)
  clock.advance(4999)
  clock.advance(1)
  t.match(await reading, /^failed/, 'a transfer still running at the time limit is cut')
})
