// Linking a WhatsApp account to a session: the QR code, or a pairing code entered on the phone.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { ApiError } from '../../errors.js'
import { ClientIdQuery, errorResponses, ROUTING_ERRORS } from '../../schemas/common.js'
import { PairingCodeBody, PairingCodeResponse, QrPng, QrQuery, QrResponse } from '../../schemas/linking.js'
import { qrAvailability } from '../../whatsapp/qr-availability.js'
import { qrDataUrl, qrPng, qrTerminal } from '../../whatsapp/qr-image.js'

const linkingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['whatsapp']

  app.get('/qr', {
    config: { session: { clientIdIn: 'query' } },
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
            'image/png': { schema: QrPng },
            'text/plain': { schema: Type.String() },
          },
        },
        ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'SESSION_NOT_FOUND', 'ALREADY_CONNECTED', 'QR_NOT_READY', 'LEASE_HELD_ELSEWHERE'),
      },
    },
  }, async (request, reply) => {
    const session = app.sessions.get(request.query.clientId ?? app.sessions.defaultClientId)
    const availability = qrAvailability(session.status(), session.qr(), Date.now())
    if (!availability.available) {
      const { code, message, details, retryAfterSeconds } = availability
      const headers = retryAfterSeconds === undefined ? undefined : { 'retry-after': String(retryAfterSeconds) }
      throw new ApiError(code, { message, details, headers })
    }
    const { qr } = availability
    reply.header('cache-control', 'no-store')
    const format = request.query.format ?? 'json'
    if (format === 'png') return reply.type('image/png').send(await qrPng(qr.value))
    if (format === 'terminal') return reply.type('text/plain; charset=utf-8').send(await qrTerminal(qr.value))
    return { qr: qr.value, dataUrl: await qrDataUrl(qr.value), expiresAt: qr.expiresAt.toISOString() }
  })

  app.post('/pairing-code', {
    config: { session: { clientIdIn: 'body-or-query' } },
    schema: {
      tags,
      summary: 'Link by phone number instead of QR',
      description: 'Only while the session waits for a link (state "qr"). Enter the code on the phone: Linked devices > Link with phone number.',
      querystring: ClientIdQuery,
      body: PairingCodeBody,
      response: {
        200: PairingCodeResponse,
        ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'INVALID_PHONE', 'SESSION_NOT_FOUND', 'ALREADY_CONNECTED', 'PAIRING_NOT_AVAILABLE', 'SEND_FAILED'),
      },
    },
  }, async (request) => {
    const clientId = request.body.clientId ?? request.query.clientId ?? app.sessions.defaultClientId
    return { clientId, pairingCode: await app.sessions.requestPairingCode(clientId, request.body.phone) }
  })
}

export default linkingRoutes
