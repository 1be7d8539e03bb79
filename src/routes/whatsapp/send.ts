// POST /send: every message type, as JSON or a multipart upload, optionally idempotent
// (Idempotency-Key) and optionally queued while the session is not open.
import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiError, toErrorBody } from '../../errors.js'
import { MessageError } from '../../messages/errors.js'
import { runIdempotent } from '../../messages/idempotency/run.js'
import { idempotencyScope, requestFingerprint } from '../../messages/idempotency/types.js'
import type { SendAnswer } from '../../messages/service.js'
import { Status } from '../../messages/store/types.js'
import { ClientIdQuery, errorResponses, ROUTING_ERRORS } from '../../schemas/common.js'
import { SendBody, SendHeaders, SendResponse } from '../../schemas/messages.js'
import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import { readSendInput, removeUploads } from './send-input.js'

/** An error after which the message may be at WhatsApp: a repeat with the key must not send again. */
const reachedWhatsApp = (err: unknown) => err instanceof MessageError && typeof err.details?.messageId === 'string'

const sendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { mediaMaxBytes } = app.config.messages
  await app.register(multipart, {
    limits: { fileSize: mediaMaxBytes, files: 1, fields: 30, fieldSize: 65_536, parts: 31 },
  })
  app.decorateRequest('uploads', null)
  // The JSON text is kept in view for one question: has it a backslash? Without one, no string in the
  // body needs escaping, and the idempotency fingerprint skips checking them (see requestFingerprint).
  app.decorateRequest('jsonBackslash', null)
  const parseJson = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    request.jsonBackslash = (text as string).includes('\\')
    parseJson(request, text as string, done)
  })
  app.addHook('onResponse', async (request) => removeUploads(request))
  app.addHook('onRequestAbort', async (request) => removeUploads(request))

  app.post('/send', {
    config: {
      rateLimit: { max: app.config.rateLimit.sendMax, timeWindow: app.config.rateLimit.windowMs },
      session: { clientIdIn: 'body-or-query' },
    },
    // base64 media travels in the JSON body, held in memory: 256 KiB unless SEND_BODY_MAX_BYTES says more
    // (large files stream in by URL or upload).
    bodyLimit: app.config.messages.sendBodyMaxBytes,
    preValidation: async (request) => readSendInput(request, mediaMaxBytes),
    schema: {
      tags: ['whatsapp'],
      summary: 'Send a message: text, media, location, contact, reaction, reply, edit, delete or read receipt',
      description:
        'JSON, or multipart/form-data with the same fields and one file part (media). 200 means WhatsApp\'s server acknowledged the message. ' +
        'With an Idempotency-Key a repeat (same key, API key and session, within 24 h) returns the first answer (header Idempotent-Replayed: true) and sends nothing. ' +
        'With queue: true and the session not open, 202 and the message is sent once it is. See docs/messages.md.',
      consumes: ['application/json', 'multipart/form-data'],
      headers: SendHeaders,
      querystring: ClientIdQuery,
      body: SendBody,
      response: {
        200: SendResponse,
        202: SendResponse,
        ...errorResponses(
          ...ROUTING_ERRORS, 'MISDIRECTED_UPLOAD',
          'VALIDATION_FAILED', 'INVALID_PHONE', 'UNSUPPORTED_RECIPIENT', 'INVALID_BASE64', 'MEDIA_URL_REFUSED', 'INVALID_MULTIPART', 'QUEUE_NOT_SUPPORTED',
          'SESSION_NOT_FOUND', 'SESSION_NOT_OPEN', 'IDEMPOTENCY_KEY_IN_USE', 'MEDIA_TOO_LARGE', 'IDEMPOTENCY_KEY_MISMATCH', 'MEDIA_TYPE_MISMATCH',
          'MEDIA_FETCH_FAILED', 'QUOTED_MESSAGE_NOT_FOUND', 'TARGET_MESSAGE_NOT_FOUND', 'NOT_OWN_MESSAGE', 'SEND_FAILED', 'MEDIA_UPLOAD_FAILED', 'SEND_NOT_ACKNOWLEDGED',
        ),
      },
    },
  }, async (request, reply) => {
    const body = request.body
    const clientId = body.clientId ?? request.query.clientId ?? app.sessions.defaultClientId
    const uploads = request.uploads ?? undefined
    const key = request.headers['idempotency-key']
    const { service, store, idempotency } = app.messages
    if (key === undefined) {
      const answer = await service.send(clientId, body, { uploads })
      return reply.code(answer.status).send(answer.body)
    }
    const result = await runIdempotent({
      store: idempotency,
      scope: idempotencyScope(request.apiKeyId, clientId, key),
      clientId,
      fingerprint: requestFingerprint(body, uploads ? [...uploads.values()].map((u) => u.sha256).join(',') : undefined, {
        escapeFree: request.jsonBackslash === false,
      }),
      newMessageId: generateMessageIDV2(),
      run: (messageId): Promise<SendAnswer> => service.send(clientId, body, { uploads, messageId }),
      // A message under the key's id that WhatsApp's server took: the answer its send gave (the chat is
      // the one it was sent to, as in the answer).
      async recorded(messageId): Promise<SendAnswer | null> {
        const sent = await store.get(clientId, messageId)
        if (!sent?.fromMe || sent.status < Status.SERVER_ACK) return null
        return { status: 200, body: { clientId, messageId, to: sent.message.key.remoteJid ?? '', status: 'sent' } }
      },
      isRecorded: (answer, messageId) => {
        const { status, body: answered } = answer as SendAnswer
        return status === 200 && answered.status === 'sent' && answered.messageId === messageId
      },
      keepError: (err) => {
        if (!reachedWhatsApp(err)) return null
        const { status, body: errorBody } = toErrorBody(err, request.id)
        return { status, body: errorBody }
      },
    })
    if (result.kind === 'in_flight') throw new ApiError('IDEMPOTENCY_KEY_IN_USE')
    if (result.kind === 'mismatch') throw new ApiError('IDEMPOTENCY_KEY_MISMATCH')
    if (result.kind === 'replay') reply.header('idempotent-replayed', 'true')
    // A kept error answer is replayed as it was first given (its status and the one error shape).
    return reply.code(result.answer.status as 200).send(result.answer.body as SendAnswer['body'])
  })
}

export default sendRoutes
