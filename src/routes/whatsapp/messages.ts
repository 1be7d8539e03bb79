// A message's status, the download of its media, and the check of which numbers are on WhatsApp.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { normalizeMessageContent } from '@whiskeysockets/baileys'
import { ApiError } from '../../errors.js'
import { downloadMedia, mediaOf } from '../../messages/download.js'
import { checkNumbers } from '../../messages/numbers.js'
import { statusName } from '../../messages/store/types.js'
import { ClientIdQuery, errorResponses, ROUTING_ERRORS } from '../../schemas/common.js'
import { MediaBytes, MessageParams, MessageStatusResponse, NumbersQuery, NumbersResponse } from '../../schemas/messages.js'

const MAX_NUMBERS = 50
const iso = (d: Date | null) => d?.toISOString() ?? null

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Status and media live in Postgres: with nobody holding the session, any instance answers.
  app.get('/messages/:messageId', {
    config: { session: { clientIdIn: 'query', whenNoHolder: 'local' } },
    schema: {
      tags: ['whatsapp'],
      summary: 'Status of a message sent (or received) through this server',
      description: 'pending -> sent -> delivered -> read -> played, or failed with the reason. Kept MESSAGE_RETENTION_DAYS.',
      params: MessageParams,
      querystring: ClientIdQuery,
      response: { 200: MessageStatusResponse, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'MESSAGE_NOT_FOUND') },
    },
  }, async (request) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const { messageId } = request.params
    const stored = await app.messages.store.get(clientId, messageId)
    if (stored) {
      const content = normalizeMessageContent(stored.message.message)
      return {
        clientId,
        messageId,
        chat: stored.message.key.remoteJid ?? null,
        fromMe: stored.fromMe,
        type: content ? (Object.keys(content).find((k) => k !== 'messageContextInfo') ?? null) : null,
        status: statusName(stored.status),
        reason: stored.statusReason,
        hasMedia: mediaOf(stored) !== null,
        createdAt: stored.createdAt.toISOString(),
        sentAt: iso(stored.sentAt),
        deliveredAt: iso(stored.deliveredAt),
        readAt: iso(stored.readAt),
        playedAt: iso(stored.playedAt),
        failedAt: iso(stored.failedAt),
      }
    }
    const queued = await app.messages.queue.get(clientId, messageId)
    if (!queued) throw new ApiError('MESSAGE_NOT_FOUND')
    const failed = queued.state === 'failed'
    return {
      clientId, messageId, chat: null, fromMe: true, type: null, status: failed ? 'failed' as const : 'pending' as const,
      reason: queued.error, hasMedia: false, createdAt: queued.createdAt.toISOString(),
      sentAt: null, deliveredAt: null, readAt: null, playedAt: null, failedAt: failed ? queued.createdAt.toISOString() : null,
    }
  })

  app.get('/messages/:messageId/media', {
    config: { session: { clientIdIn: 'query', whenNoHolder: 'local' } },
    schema: {
      tags: ['whatsapp'],
      summary: 'Download the media of a message (decrypted, streamed, with its content type)',
      params: MessageParams,
      querystring: ClientIdQuery,
      produces: ['application/octet-stream'],
      response: {
        200: { description: 'The file, with its Content-Type', content: { 'application/octet-stream': { schema: MediaBytes } } },
        ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'MESSAGE_NOT_FOUND', 'MESSAGE_HAS_NO_MEDIA', 'MEDIA_DOWNLOAD_FAILED'),
      },
    },
  }, async (request, reply) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const stored = await app.messages.store.get(clientId, request.params.messageId)
    if (!stored) throw new ApiError('MESSAGE_NOT_FOUND')
    const media = await downloadMedia(stored)
    reply.type(media.mimetype)
    if (media.fileName) reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(media.fileName)}`)
    // The stream is sent as is (no serialisation); the schema only documents the bytes.
    return reply.send(media.stream as unknown as Buffer)
  })

  app.get('/contacts/check', {
    config: { session: { clientIdIn: 'query' } },
    schema: {
      tags: ['whatsapp'],
      summary: 'Which phone numbers are on WhatsApp (batch), with their JIDs',
      querystring: NumbersQuery,
      response: { 200: NumbersResponse, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'INVALID_PHONE', 'SESSION_NOT_FOUND', 'SESSION_NOT_OPEN') },
    },
  }, async (request) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const phones = request.query.phones.split(',').map((p) => p.trim()).filter(Boolean)
    if (phones.length === 0 || phones.length > MAX_NUMBERS) {
      throw new ApiError('VALIDATION_FAILED', { message: `Invalid request: querystring.phones must list 1 to ${MAX_NUMBERS} numbers.`, details: [{ field: 'querystring.phones', problem: `must list 1 to ${MAX_NUMBERS} numbers` }] })
    }
    return { clientId, results: await checkNumbers(app.sessions, clientId, phones) }
  })
}

export default messageRoutes
