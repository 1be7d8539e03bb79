// Sending messages.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ClientIdQuery, errorResponses } from '../../schemas/common.js'
import { SendBody, SendResponse } from '../../schemas/messages.js'

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/send', {
    config: { rateLimit: { max: app.config.rateLimit.sendMax, timeWindow: app.config.rateLimit.windowMs } },
    schema: {
      tags: ['whatsapp'],
      summary: 'Send a text message',
      description: 'To a phone number, a user (@s.whatsapp.net, @lid) or a group (@g.us); other recipients are refused with UNSUPPORTED_RECIPIENT.',
      querystring: ClientIdQuery,
      body: SendBody,
      response: {
        200: SendResponse,
        ...errorResponses('VALIDATION_FAILED', 'INVALID_PHONE', 'UNSUPPORTED_RECIPIENT', 'SESSION_NOT_FOUND', 'SESSION_NOT_OPEN', 'SEND_FAILED'),
      },
    },
  }, async (request) => {
    const clientId = request.body.clientId ?? request.query.clientId ?? app.sessions.defaultClientId
    const sent = await app.sessions.sendText(clientId, request.body.to, request.body.text)
    return { clientId, messageId: sent.messageId, to: sent.jid }
  })
}

export default messageRoutes
