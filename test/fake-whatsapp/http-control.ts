// JSON control API on the fake's own port, for when it runs in another process
// (scripts/fake-whatsapp.ts, e2e tests that spawn it). Mirrors the in-process API.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FakeWhatsApp } from './server.js'
import { png } from '../helpers/media-fixtures.js'

const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  if (chunks.length === 0) return {}
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('body must be a JSON object')
  return Object.fromEntries(Object.entries(parsed))
}
const str = (body: Record<string, unknown>, key: string, required = true): string | undefined => {
  const v = body[key]
  if (typeof v === 'string' && v.length > 0) return v
  if (required) throw new HttpError(400, `"${key}" (string) is required`)
  return undefined
}
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * GET  /                       usage
 * GET  /state                  { account, companion, preKeyCount, connectionAttempts, liveConnections, maxConcurrentConnections, waitingForScan, backlog }
 * POST /scan                   { qr, pn?, lid?, name? }          -> { jid, lid, deviceId }
 * POST /pairing-code          { code, pn? }                     -> { jid, lid, deviceId }
 * POST /contacts               { pn, lid, name? }                -> { jid, lid }
 * POST /contacts/:pn/send      { text, to? }                     -> { id, type }
 * POST /contacts/:pn/image     { caption? }                      -> { id, type }   (a PNG, hosted on the media server)
 * POST /contacts/:pn/receipt   { id, type: read|played }         -> {}
 * POST /contacts/:pn/retry     { id }                            -> {}             (a retry receipt)
 * GET  /messages               -> received() (decrypted messages the contacts got)
 * POST /groups                 { subject, participants: [pn], to?, addressingMode?: pn|lid } -> { jid, subject, account, participants, addressingMode }
 * GET  /groups                 -> groups()
 * POST /groups/:jid/send       { from, text }                    -> { id, type }   (a member writes to the group)
 * POST /drop                   { pn? }                           -> { dropped }
 * POST /conflict               { pn? }                           -> { kicked }
 * POST /unpair                 { pn? }                           -> {}
 * POST /media/refuse-uploads   { on: boolean }                   -> {}             (the media server answers uploads 500)
 */
export const handleControlRequest = async (fake: FakeWhatsApp, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const url = new URL(req.url ?? '/', 'http://localhost')
  const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`
  const sendMatch = /^POST \/contacts\/([^/]+)\/send$/.exec(route)
  try {
    if (route === 'GET /') {
      return send(200, { websocket: fake.url, routes: ['GET /state', 'POST /scan', 'POST /pairing-code', 'POST /contacts', 'POST /contacts/:pn/send', 'POST /contacts/:pn/image', 'POST /contacts/:pn/receipt', 'POST /contacts/:pn/retry', 'GET /messages', 'POST /groups', 'GET /groups', 'POST /groups/:jid/send', 'POST /drop', 'POST /conflict', 'POST /unpair', 'POST /media/refuse-uploads'] })
    }
    if (route === 'GET /state') {
      return send(200, {
        account: fake.account,
        companion: fake.companion() ?? null,
        preKeyCount: fake.preKeyCount(),
        connectionAttempts: fake.connectionAttempts(),
        liveConnections: fake.liveConnections(),
        maxConcurrentConnections: fake.maxConcurrentConnections(),
        waitingForScan: fake.waitingForScan(),
        backlog: fake.backlog(),
      })
    }
    if (route === 'GET /messages') return send(200, fake.received())
    if (route === 'GET /groups') return send(200, fake.groups())
    const body = req.method === 'POST' ? await readJson(req) : {}
    if (route === 'POST /scan') {
      const qr = str(body, 'qr') ?? ''
      return send(200, await fake.scanQR(qr, { pn: str(body, 'pn', false), lid: str(body, 'lid', false), name: str(body, 'name', false) }))
    }
    if (route === 'POST /pairing-code') {
      return send(200, await fake.enterPairingCode(str(body, 'code') ?? '', { pn: str(body, 'pn', false) }))
    }
    if (route === 'POST /contacts') {
      return send(201, fake.addContact({ pn: str(body, 'pn') ?? '', lid: str(body, 'lid') ?? '', name: str(body, 'name', false) }))
    }
    if (route === 'POST /groups') {
      const participants = body.participants
      if (!Array.isArray(participants) || !participants.every(p => typeof p === 'string')) throw new HttpError(400, '"participants" (array of phone numbers) is required')
      const addressingMode = str(body, 'addressingMode', false) === 'lid' ? 'lid' : 'pn'
      return send(201, fake.addGroup({ subject: str(body, 'subject') ?? '', participants, to: str(body, 'to', false), addressingMode }))
    }
    const groupSend = /^POST \/groups\/([^/]+)\/send$/.exec(route)
    if (groupSend) {
      return send(200, await fake.contactSendGroupMessage(str(body, 'from') ?? '', decodeURIComponent(groupSend[1] ?? ''), str(body, 'text') ?? ''))
    }
    if (sendMatch) {
      return send(200, await fake.contactSend(decodeURIComponent(sendMatch[1] ?? ''), str(body, 'text') ?? '', { to: str(body, 'to', false) }))
    }
    const contactAction = /^POST \/contacts\/([^/]+)\/(image|receipt|retry)$/.exec(route)
    if (contactAction) {
      const pn = decodeURIComponent(contactAction[1] ?? '')
      if (contactAction[2] === 'image') {
        const hosted = await fake.hostMedia(png(32, 32), 'image')
        return send(200, await fake.contactSendMessage(pn, { imageMessage: { ...hosted, mimetype: 'image/png', caption: str(body, 'caption', false) } }))
      }
      if (contactAction[2] === 'receipt') {
        const type = str(body, 'type') === 'played' ? 'played' : 'read'
        fake.contactReceipt(pn, str(body, 'id') ?? '', type)
        return send(200, {})
      }
      fake.contactRetry(pn, str(body, 'id') ?? '')
      return send(200, {})
    }
    if (route === 'POST /drop') return send(200, { dropped: fake.dropConnection(str(body, 'pn', false)) })
    if (route === 'POST /conflict') return send(200, { kicked: fake.kickConflict(str(body, 'pn', false)) })
    if (route === 'POST /unpair') {
      fake.unpair(str(body, 'pn', false))
      return send(200, {})
    }
    if (route === 'POST /media/refuse-uploads') {
      if (typeof body.on !== 'boolean') throw new HttpError(400, '"on" (boolean) is required')
      fake.media.refuseUploads(body.on)
      return send(200, {})
    }
    return send(404, { error: `no route ${route}` })
  } catch (err) {
    if (err instanceof HttpError) return send(err.status, { error: err.message })
    return send(400, { error: err instanceof Error ? err.message : String(err) })
  }
}
