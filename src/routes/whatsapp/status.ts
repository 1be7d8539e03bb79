// A session's connection: its status, everything an operator needs about it, and a forced reconnect.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { TSchema } from '@sinclair/typebox'
import type { LeaseState } from '../../lease/index.js'
import { ClientIdQuery, errorResponses, ROUTING_ERRORS } from '../../schemas/common.js'
import { ReconnectBody, ReconnectResponse, SessionInfoResponse, StatusResponse } from '../../schemas/status.js'
import { emptyBodyIsObject } from '../hooks.js'

const statusRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['whatsapp']
  /** The session a request names (clientId in the body, then the query), else the default one. */
  const sessionOf = (...clientIds: (string | undefined)[]) =>
    app.sessions.get(clientIds.find((id) => id !== undefined) ?? app.sessions.defaultClientId)
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

  /** A read of one session named in the query: routed to its holder, 404 for an unknown one. */
  const sessionRead = <R extends TSchema>(summary: string, response: R) => ({
    config: { session: { clientIdIn: 'query' as const } },
    schema: { tags, summary, querystring: ClientIdQuery, response: { 200: response, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'SESSION_NOT_FOUND') } },
  })

  app.get('/status', sessionRead('Connection state of a session', StatusResponse), async (request) => {
    const status = sessionOf(request.query.clientId).status()
    return { ...status, connected: status.state === 'open' }
  })

  app.get('/session-info', sessionRead('Everything an operator needs about a session: state, storage health, key counts', SessionInfoResponse), async (request) => {
    const session = sessionOf(request.query.clientId)
    const { state, account, connectedSince, lastDisconnect } = session.status()
    const storage = session.storeHealth()
    const encryption = storage?.encryption ?? Boolean(app.config.encryptionKey)
    const keyCounts = await session.keyCounts()
    const uptime = { uptimeSeconds: session.uptimeSeconds, serverUptimeSeconds: Math.round(process.uptime()) }
    return { clientId: session.clientId, state, account, connectedSince, lastDisconnect, storage, keyCounts, encryption, ...uptime, lease: leaseInfo(session.leaseState()) }
  })

  app.post('/reconnect', {
    config: { session: { clientIdIn: 'body-or-query' } },
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Force a fresh connection (concurrent calls share one attempt)',
      description: 'Also takes a "replaced" session back from the other connection.',
      querystring: ClientIdQuery,
      body: ReconnectBody,
      response: { 200: ReconnectResponse, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'SESSION_NOT_FOUND', 'SESSION_STOPPED', 'LEASE_HELD_ELSEWHERE') },
    },
  }, async (request) => {
    const session = sessionOf(request.body.clientId, request.query.clientId)
    await session.reconnect()
    return { clientId: session.clientId, state: session.state }
  })
}

export default statusRoutes
