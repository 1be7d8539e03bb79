// Single-session routes: status, QR, pairing code, send, session info, reconnect. HTTP only: each
// validates with its schema, calls the session manager, and answers with its response schema.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ApiError } from '../../errors.js'
import { qrDataUrl, qrPng, qrTerminal } from '../../whatsapp/qr-image.js'
import { ClientIdQuery, errorResponses } from '../../schemas/common.js'
import {
  ClientIdBody,
  CleanupSessionsResponse,
  PairingCodeBody,
  PairingCodeResponse,
  QrQuery,
  QrResponse,
  ReconnectResponse,
  SendBody,
  SendResponse,
  SessionInfoResponse,
  StatusResponse,
} from '../../schemas/whatsapp.js'
import type { LeaseState } from '../../lease/index.js'
import { cleanupLocalFiles, corruptRetentionMs } from '../../whatsapp/cleanup.js'
import { clientIdOf, emptyBodyIsObject } from '../hooks.js'

export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['whatsapp']
  /** The lease part of session-info: how this server guards the session, and the session's lease state. */
  const leaseInfo = (state: LeaseState | null) => ({
    mode: app.lease.info.mode,
    description: app.lease.info.description,
    role: state?.role ?? null,
    owner: app.lease.info.owner,
    holder: state?.holder ?? null,
    fencingToken: state?.fencingToken ?? null,
    expiresAt: state?.expiresAt?.toISOString() ?? null,
    takeovers: state?.takeovers ?? null,
    acquisitions: state?.acquisitions ?? null,
    losses: state?.losses ?? null,
    ttlMs: app.lease.info.ttlMs,
    lockFile: app.lease.info.lockFile,
    lastError: state?.lastError ?? null,
  })
  const sessionOf = (request: Parameters<typeof clientIdOf>[0]) =>
    app.sessions.get(clientIdOf(request, app.sessions.defaultClientId))

  app.get('/status', {
    schema: {
      tags,
      summary: 'Connection state of a session',
      querystring: ClientIdQuery,
      response: { 200: StatusResponse, ...errorResponses('VALIDATION_FAILED', 'SESSION_NOT_FOUND') },
    },
  }, async (request) => {
    const status = sessionOf(request).status()
    return { ...status, connected: status.state === 'open' }
  })

  app.get('/qr', {
    schema: {
      tags,
      summary: 'Current QR code to link the account (JSON, PNG or terminal text)',
      description: 'Scan it in WhatsApp > Linked devices. 409 ALREADY_CONNECTED when linked; 425 QR_NOT_READY (with Retry-After) while connecting.',
      querystring: QrQuery,
      produces: ['application/json', 'image/png', 'text/plain'],
      response: {
        200: {
          description: 'The QR',
          content: {
            'application/json': { schema: QrResponse },
            'image/png': { schema: Type.String({ format: 'binary' }) },
            'text/plain': { schema: Type.String() },
          },
        },
        ...errorResponses('VALIDATION_FAILED', 'SESSION_NOT_FOUND', 'ALREADY_CONNECTED', 'QR_NOT_READY', 'LEASE_HELD_ELSEWHERE'),
      },
    },
  }, async (request, reply) => {
    const session = sessionOf(request)
    if (session.state === 'open') throw new ApiError('ALREADY_CONNECTED')
    const qr = session.qr()
    if (!qr) {
      const status = session.status()
      const retryAt = status.reconnect.nextRetryAt ? Date.parse(status.reconnect.nextRetryAt) : Date.now() + 2000
      const retryAfter = Math.min(60, Math.max(1, Math.ceil((retryAt - Date.now()) / 1000)))
      const holder = status.lease?.holder
      if (status.state === 'standby' && holder && holder !== status.lease?.owner) {
        throw new ApiError('LEASE_HELD_ELSEWHERE', {
          message: `No QR here: instance ${holder} runs this session; ask that instance (or stop it and retry here).`,
          details: { state: status.state, lease: status.lease },
        })
      }
      const message = status.state === 'replaced'
        ? 'No QR: another connection replaced this session. POST /api/whatsapp/reconnect to take it back, then retry.'
        : status.state === 'standby'
          ? 'No QR yet: this instance is taking the session lease (if it stays so, the database is unreachable). Retry after Retry-After seconds.'
          : undefined
      throw new ApiError('QR_NOT_READY', { message, details: { state: status.state }, headers: { 'retry-after': String(retryAfter) } })
    }
    const { format = 'json' } = request.query as QrQuery
    reply.header('cache-control', 'no-store')
    if (format === 'png') return reply.type('image/png').send(await qrPng(qr.value))
    if (format === 'terminal') return reply.type('text/plain; charset=utf-8').send(await qrTerminal(qr.value))
    return { qr: qr.value, dataUrl: await qrDataUrl(qr.value), expiresAt: qr.expiresAt.toISOString() }
  })

  app.post('/pairing-code', {
    schema: {
      tags,
      summary: 'Link by phone number instead of QR',
      description: 'Only while the session waits for a link (state "qr"). Enter the code on the phone: Linked devices > Link with phone number.',
      querystring: ClientIdQuery,
      body: PairingCodeBody,
      response: {
        200: PairingCodeResponse,
        ...errorResponses('VALIDATION_FAILED', 'INVALID_PHONE', 'SESSION_NOT_FOUND', 'ALREADY_CONNECTED', 'PAIRING_NOT_AVAILABLE', 'SEND_FAILED'),
      },
    },
  }, async (request) => {
    const clientId = clientIdOf(request, app.sessions.defaultClientId)
    const { phone } = request.body as PairingCodeBody
    return { clientId, pairingCode: await app.sessions.requestPairingCode(clientId, phone) }
  })

  app.post('/send', {
    config: { rateLimit: { max: app.config.rateLimit.sendMax, timeWindow: app.config.rateLimit.windowMs } },
    schema: {
      tags,
      summary: 'Send a text message',
      querystring: ClientIdQuery,
      body: SendBody,
      response: {
        200: SendResponse,
        ...errorResponses('VALIDATION_FAILED', 'INVALID_PHONE', 'SESSION_NOT_FOUND', 'SESSION_NOT_OPEN', 'SEND_FAILED'),
      },
    },
  }, async (request) => {
    const clientId = clientIdOf(request, app.sessions.defaultClientId)
    const { to, text } = request.body as SendBody
    const sent = await app.sessions.sendText(clientId, to, text)
    return { clientId, messageId: sent.messageId, to: sent.jid }
  })

  app.get('/session-info', {
    schema: {
      tags,
      summary: 'Everything an operator needs about a session: state, storage health, key counts',
      querystring: ClientIdQuery,
      response: { 200: SessionInfoResponse, ...errorResponses('VALIDATION_FAILED', 'SESSION_NOT_FOUND') },
    },
  }, async (request) => {
    const session = sessionOf(request)
    const status = session.status()
    const storage = session.storeHealth()
    return {
      clientId: session.clientId,
      state: status.state,
      account: status.account,
      connectedSince: status.connectedSince,
      lastDisconnect: status.lastDisconnect,
      storage,
      keyCounts: await session.keyCounts(),
      encryption: storage?.encryption ?? Boolean(app.config.encryptionKey),
      uptimeSeconds: session.uptimeSeconds,
      serverUptimeSeconds: Math.round(process.uptime()),
      lease: leaseInfo(session.leaseState()),
    }
  })

  app.post('/reconnect', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Force a fresh connection (concurrent calls share one attempt)',
      description: 'Also takes a "replaced" session back from the other connection.',
      querystring: ClientIdQuery,
      body: ClientIdBody,
      response: { 200: ReconnectResponse, ...errorResponses('VALIDATION_FAILED', 'SESSION_NOT_FOUND', 'SESSION_STOPPED', 'LEASE_HELD_ELSEWHERE') },
    },
  }, async (request) => {
    const session = sessionOf(request)
    await session.reconnect()
    return { clientId: session.clientId, state: session.state }
  })

  app.post('/cleanup-sessions', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags: ['sessions'],
      summary: 'Remove stale temporary files, quarantined corrupt files and files of sessions that no longer exist',
      description: 'Never touches the files of a session running on this server. In file mode, session files are the store and are kept.',
      response: { 200: CleanupSessionsResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async () => {
    const result = await cleanupLocalFiles({
      sessionPath: app.config.sessionPath,
      store: app.store,
      isRunning: app.sessions.isRunning,
      corruptOlderThanMs: corruptRetentionMs(app.config.cleanup.inactiveAfterDays),
    })
    app.metrics.cleanup('local', false, result.removed.length)
    return result
  })
}
