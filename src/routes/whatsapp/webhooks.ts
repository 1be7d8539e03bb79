// A session's own webhook, its dead letters, and their redelivery.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ClientIdQuery, errorResponses, NoQuery } from '../../schemas/common.js'
import { DeliveriesQuery, DeliveriesResponse, RedeliverBody, RedeliverResponse, WebhookBody, WebhookResponse } from '../../schemas/webhooks.js'
import { Type } from '@sinclair/typebox'
import { emptyBodyIsObject } from '../hooks.js'

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['webhooks']
  const service = app.webhooks.service

  app.put('/webhook', {
    schema: {
      tags,
      summary: 'Set the session\'s own webhook (URL, secret, event filter, headers); it receives events stored from now on',
      querystring: ClientIdQuery,
      body: WebhookBody,
      response: { 200: WebhookResponse, ...errorResponses('VALIDATION_FAILED', 'WEBHOOK_URL_REFUSED', 'WEBHOOK_HEADER_REFUSED', 'WEBHOOK_SECRET_INVALID', 'STORED_SESSION_NOT_FOUND') },
    },
  }, async (request) => service.put(request.query.clientId ?? app.sessions.defaultClientId, request.body))

  app.get('/webhook', {
    schema: {
      tags,
      summary: 'The session\'s own webhook (secret masked)',
      querystring: ClientIdQuery,
      response: { 200: WebhookResponse, ...errorResponses('VALIDATION_FAILED', 'WEBHOOK_NOT_FOUND') },
    },
  }, async (request) => service.get(request.query.clientId ?? app.sessions.defaultClientId))

  app.delete('/webhook', {
    schema: {
      tags,
      summary: 'Remove the session\'s own webhook (WEBHOOK_URL, when set, still receives its events)',
      querystring: ClientIdQuery,
      response: { 200: Type.Object({ clientId: Type.String(), deleted: Type.Boolean() }, { examples: [{ clientId: 'rafi-scheme-manager', deleted: true }] }), ...errorResponses('VALIDATION_FAILED', 'WEBHOOK_NOT_FOUND') },
    },
  }, async (request) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    await service.delete(clientId)
    return { clientId, deleted: true }
  })

  app.get('/webhook/deliveries', {
    schema: {
      tags,
      summary: 'Dead letters of the session: events a webhook refused (4xx) or that failed for WEBHOOK_MAX_AGE_HOURS',
      querystring: DeliveriesQuery,
      response: { 200: DeliveriesResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async (request) => {
    const clientId = request.query.clientId ?? app.sessions.defaultClientId
    const letters = await service.deliveries(clientId, request.query.status)
    return {
      clientId,
      deliveries: letters.map((l) => ({
        endpoint: l.endpoint, eventId: l.eventId, seq: l.seq, type: l.type, attempts: l.attempts,
        lastError: l.lastError, lastStatus: l.lastStatus, status: l.state, failedAt: l.failedAt.toISOString(),
      })),
    }
  })

  app.post('/webhook/deliveries/redeliver', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Send dead letters again (these event ids, or every failed one): same ids, in seq order, after the events pending now',
      querystring: NoQuery,
      body: RedeliverBody,
      response: { 202: RedeliverResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async (request, reply) => {
    const clientId = request.body.clientId ?? app.sessions.defaultClientId
    const letters = await service.redeliver(clientId, request.body.eventIds ?? null)
    return reply.code(202).send({ clientId, requeued: letters.length, eventIds: letters.map((l) => l.eventId) })
  })
}

export default webhookRoutes
