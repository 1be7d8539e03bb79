// Any instance answers any request for any session. A route that acts on one session says so in its
// config (`session`); this plugin then answers it here when this instance holds the session, and
// otherwise sends it to the holder (src/cluster/route-decision.ts decides, this file acts):
// - on Fly.io, an empty answer with `fly-replay: instance=<machine>`: Fly's proxy replays the request
//   there (bodies up to 1 MB, the most it replays);
// - elsewhere (and larger bodies on Fly.io), forwarded over the private network to the holder's
//   advertised address with @fastify/reply-from, keeping the API key header and the request id and
//   adding a hop header, so a forwarded request is never forwarded again;
// - 503 SESSION_MOVING with Retry-After while nobody holds it, 503 HOLDER_UNREACHABLE when the holder
//   does not answer in time.
// Routes whose body may name the session (JSON) are routed in preValidation, once the body is parsed
// and the caller authenticated, before the route's own preValidation changes it. Streamed bodies
// (multipart uploads) must be forwarded before anything reads them: those are routed in preParsing,
// by the clientId of the query string.
import { Readable } from 'node:stream'
import replyFrom from '@fastify/reply-from'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import {
  bodyBytesOf,
  decideRoute,
  FLY_REPLAY_SOURCE_HEADER,
  flyReplayHeader,
  HOP_HEADER,
  type RouteDecision,
} from '../cluster/route-decision.js'
import { isLinkedSession } from '../cluster/holders.js'
import type { ClusterDirectory } from '../cluster/types.js'
import { ApiError, sendError } from '../errors.js'

export interface SessionRouting {
  /** Where the route reads the client id: the query string, the path, or the body then the query. */
  clientIdIn: 'query' | 'params' | 'body-or-query'
  /**
   * With nobody holding a session that does not run here: 503 until someone does (default), or answer
   * here (the data lives in Postgres).
   */
  whenNoHolder?: 'retry' | 'local'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route acts on one session: it is answered by the instance holding it. */
    session?: SessionRouting
  }
  interface FastifyRequest {
    /** The client id this request was routed by in preParsing (a multipart upload), else null. */
    routedClientId: string | null
  }
}

export interface RoutingOptions {
  /** The instance registry; null when there is no cluster (file mode, SESSION_LEASE=off). */
  directory: ClusterDirectory | null
  /** Retry-After of a 503 while a session has no holder. */
  retryAfterSeconds: number
  /** Longest wait for the holder's answer to a forwarded request. */
  forwardTimeoutMs: number
  /** Longest wait to connect to the holder. Default min(2000, forwardTimeoutMs). */
  connectTimeoutMs?: number
}

const isMultipart = (request: FastifyRequest) => /^multipart\//i.test(request.headers['content-type'] ?? '')
const stringField = (value: unknown, name: string): string | undefined => {
  if (value === null || typeof value !== 'object') return undefined
  const field = (value as Record<string, unknown>)[name]
  return typeof field === 'string' ? field : undefined
}

export default fp<RoutingOptions>(
  async (app, options) => {
    const { directory, retryAfterSeconds, forwardTimeoutMs } = options
    const sql = app.db.sql
    app.decorateRequest('routedClientId', null)
    const clustered = directory !== null && app.lease.manager !== null && sql !== null
    if (!clustered) return

    const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(2000, forwardTimeoutMs)
    await app.register(replyFrom, {
      disableRequestLogging: true,
      undici: { connect: { timeout: connectTimeoutMs }, headersTimeout: forwardTimeoutMs, bodyTimeout: forwardTimeoutMs, keepAliveTimeout: 30_000 },
    })
    const routed = new Counter({
      name: 'whatsapp_routed_requests_total',
      help: 'Requests for a session by where they were answered: here (local), replayed by Fly, forwarded, or 503',
      labelNames: ['outcome'] as const,
      registers: [app.metrics.registry],
    })
    const self = directory.self

    const clientIdOf = (request: FastifyRequest, spec: SessionRouting, withBody: boolean): string => {
      const fromQuery = stringField(request.query, 'clientId')
      const id = spec.clientIdIn === 'params'
        ? stringField(request.params, 'clientId')
        : (withBody && spec.clientIdIn === 'body-or-query' ? stringField(request.body, 'clientId') : undefined) ?? fromQuery
      return id ?? app.sessions.defaultClientId
    }

    async function decide(request: FastifyRequest, clientId: string, spec: SessionRouting): Promise<RouteDecision> {
      try {
        return await lookUp(request, clientId, spec)
      } catch (err) {
        // The registry cannot be read (database down): nobody can be routed to; the route answers
        // from what this instance knows (it holds no lease it cannot renew either).
        request.log.warn({ err, clientId }, 'the session holder could not be looked up; answering here')
        return { kind: 'local', reason: 'no-holder' }
      }
    }

    async function lookUp(request: FastifyRequest, clientId: string, spec: SessionRouting): Promise<RouteDecision> {
      const holdsHere = app.sessions.find(clientId)?.leaseState()?.role === 'holder'
      const holder = holdsHere ? null : await directory!.holderOf(clientId)
      const runsHere = app.sessions.find(clientId) !== undefined
      const whenNoHolder = spec.whenNoHolder ?? 'retry'
      const takeoverPending = !holdsHere && holder === null && whenNoHolder === 'retry' && !runsHere && (await isLinkedSession(sql!, clientId))
      return decideRoute({
        clustered,
        holdsHere,
        holder,
        self,
        onFly: self.flyMachineId !== null,
        bodyBytes: bodyBytesOf(request.headers['content-length'], request.headers['transfer-encoding']),
        hopped: request.headers[HOP_HEADER] !== undefined || request.headers[FLY_REPLAY_SOURCE_HEADER] !== undefined,
        runsHere,
        takeoverPending,
        whenNoHolder,
        retryAfterSeconds,
      })
    }

    const unreachable = (request: FastifyRequest, reply: FastifyReply, instanceId: string, reason: string) => {
      routed.inc({ outcome: 'unavailable' })
      request.log.warn({ instance: instanceId, reason }, 'the instance holding the session did not answer')
      sendError(request, reply, new ApiError('HOLDER_UNREACHABLE', {
        details: { reason, instance: instanceId },
        headers: { 'retry-after': String(retryAfterSeconds) },
      }))
    }

    /** Acts on the decision; true when the request was answered (or handed to the holder). */
    function act(request: FastifyRequest, reply: FastifyReply, decision: RouteDecision): boolean {
      switch (decision.kind) {
        case 'local':
          routed.inc({ outcome: 'local' })
          if (decision.reason === 'no-address') request.log.debug('the session is held by an instance without INTERNAL_URL; answered here')
          return false
        case 'unavailable':
          routed.inc({ outcome: 'unavailable' })
          throw new ApiError(decision.code, { details: { reason: decision.reason }, headers: { 'retry-after': String(decision.retryAfterSeconds) } })
        case 'replay':
          routed.inc({ outcome: 'replay' })
          request.log.debug({ instance: decision.instanceId }, 'replayed by Fly to the instance holding the session')
          // Fly's proxy takes the answer's header and replays the request; the status and empty body only
          // reach a client when no Fly proxy is in front (a misconfiguration): a 409 is never a success.
          reply.header('fly-replay', flyReplayHeader(decision.machineId)).code(409).send()
          return true
        case 'forward':
          routed.inc({ outcome: 'forward' })
          reply.from(decision.url + request.url, {
            // A parsed JSON body is sent as JSON again (also `null` or a bare value, which reply-from
            // would otherwise drop while keeping the original Content-Length); a stream as it arrives.
            ...(request.body !== undefined && !(request.body instanceof Readable)
              ? { body: JSON.stringify(request.body), contentType: request.headers['content-type'] ?? 'application/json' }
              : {}),
            retryDelay: () => null,
            rewriteRequestHeaders: (_req, headers) => ({ ...headers, [HOP_HEADER]: self.id, 'x-request-id': request.id }),
            onError: (r, { error }) => unreachable(request, r as FastifyReply, decision.instanceId, error.message),
          })
          return true
      }
    }

    // Streamed bodies (multipart uploads) and routes that never read the session from the body.
    app.addHook('preParsing', (request, reply, payload, done) => {
      const spec = request.routeOptions.config.session
      if (!spec || (spec.clientIdIn === 'body-or-query' && !isMultipart(request))) return done(null, payload)
      const clientId = clientIdOf(request, spec, false)
      request.routedClientId = clientId
      decide(request, clientId, spec).then((decision) => {
        // Forwarded as it arrives: reply-from sends a stream body as is.
        if (decision.kind === 'forward' && bodyBytesOf(request.headers['content-length'], request.headers['transfer-encoding']) !== 0) {
          request.body = payload
        }
        if (!act(request, reply, decision)) done(null, payload)
      }).catch((err: unknown) => done(err as Error))
    })

    // JSON bodies: parsed (and the caller authenticated) but not yet validated or changed by the route.
    app.addHook('preValidation', (request, reply, done) => {
      const spec = request.routeOptions.config.session
      if (!spec || spec.clientIdIn !== 'body-or-query' || request.routedClientId !== null) return done()
      decide(request, clientIdOf(request, spec, true), spec).then((decision) => {
        if (!act(request, reply, decision)) done()
      }).catch((err: unknown) => done(err as Error))
    })

    // A multipart upload was routed by its query string; a form field naming another session that is
    // held elsewhere cannot be forwarded any more (the body is read).
    app.addHook('preHandler', (request, _reply, done) => {
      const spec = request.routeOptions.config.session
      if (!spec || request.routedClientId === null) return done()
      const clientId = clientIdOf(request, spec, true)
      if (clientId === request.routedClientId) return done()
      decide(request, clientId, spec).then((decision) => {
        done(decision.kind === 'local' ? undefined : new ApiError('MISDIRECTED_UPLOAD'))
      }).catch((err: unknown) => done(err as Error))
    })
  },
  { name: 'routing', fastify: '5.x', dependencies: ['cluster', 'lease', 'sessions', 'metrics'] },
)
