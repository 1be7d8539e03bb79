// Helpers for the messages e2e tests: WhatsApp's media hosts routed to the fake, a local HTTPS file
// server for media URLs (on 127.0.0.2, with the fake's test certificate), multipart bodies, and
// calls to the send and status endpoints.
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { MEDIA_TLS_CERT, MEDIA_TLS_KEY } from '../fake-whatsapp/media-tls.js'
import { routeWhatsAppMediaTo, TEST_CA } from '../fake-whatsapp/media-redirect.js'
import type { FakeWhatsApp } from '../fake-whatsapp/index.js'
import type { App, Teardown } from './harness.js'

/** What startApp needs for media: the fetcher trusts the test certificate; 127.0.0.2 is allowed. */
export const MEDIA_APP = { env: { MEDIA_URL_ALLOWED_NETWORKS: '127.0.0.2/32' }, mediaAgentOptions: { ca: TEST_CA } }

export function routeMedia(fake: FakeWhatsApp): void {
  routeWhatsAppMediaTo(fake.media.port)
}

/** An HTTPS server on 127.0.0.2 serving fixed files: path -> [content type, bytes]. */
export async function fileServer(t: Teardown, files: Record<string, [string, Buffer]>): Promise<{ url(path: string): string; hits: string[] }> {
  const hits: string[] = []
  const server = createServer({ key: MEDIA_TLS_KEY, cert: MEDIA_TLS_CERT }, (req, res) => {
    hits.push(req.url ?? '')
    const file = files[req.url ?? '']
    if (req.url?.startsWith('/redirect')) {
      res.writeHead(302, { location: req.url.replace('/redirect', '') })
      res.end()
      return
    }
    if (!file) {
      res.writeHead(404)
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': file[0], 'content-length': String(file[1].length) })
    res.end(file[1])
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const port = (server.address() as AddressInfo).port
  return { url: (path) => `https://127.0.0.2:${port}${path}`, hits }
}

/** A multipart/form-data body: text fields, then one file part. */
export async function multipart(fields: Record<string, string>, file: { name?: string; filename: string; type: string; bytes: Buffer }) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append(file.name ?? 'file', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.filename)
  const request = new Request('http://localhost/', { method: 'POST', body: form })
  return { payload: Buffer.from(await request.arrayBuffer()), headers: { 'content-type': request.headers.get('content-type') ?? '' } }
}

export interface SendResult {
  status: number
  headers: Record<string, unknown>
  body: { messageId?: string; to?: string; status?: string; error?: { code: string; message: string; details?: unknown } }
}

export async function sendJson(app: App, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<SendResult> {
  const res = await app.inject({ method: 'POST', url: '/api/whatsapp/send', payload: body, headers })
  return { status: res.statusCode, headers: res.headers, body: res.json() }
}

export async function messageStatus(app: App, id: string): Promise<{ status: number; body: Record<string, unknown> & { status?: string; reason?: string | null } }> {
  const res = await app.inject({ method: 'GET', url: `/api/whatsapp/messages/${id}` })
  return { status: res.statusCode, body: res.json() }
}
