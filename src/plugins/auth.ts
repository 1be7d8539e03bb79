// API key authentication. With API_KEY unset (development) every route is open; with it set, every
// route needs "Authorization: Bearer <key>" or "x-api-key: <key>" except routes marked public
// (/health, /ready, the /docs UI, and /metrics when METRICS_PUBLIC=true).
//
// Two steps so the rate limiter sits between them: onRequest only identifies the caller (the limiter
// then buckets valid keys per key and everything else per IP); preParsing rejects unauthenticated
// requests. A rejection counts against the caller's IP bucket wherever no route limit counted the
// request already (/metrics, unknown paths), so guessing keys is rate limited on every route.
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No API key needed. */
    public?: boolean
  }
  interface FastifyRequest {
    /** A short hash identifying the valid API key the caller presented, or null. Never the key. */
    apiKeyId: string | null
  }
  interface FastifyInstance {
    /**
     * Rejects a request that needs the API key and lacks it (401 UNAUTHORIZED, or 429 once the
     * caller's IP has failed too often). A no-op without API_KEY. The hooks call it; so does the
     * handler of errors Fastify raises before routing, where no hook runs.
     */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
}

export interface AuthOptions {
  apiKey?: string
}

/** The key the client presented, from either header, or null. */
export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    if (match) return match[1]
  }
  const xKey = request.headers['x-api-key']
  return typeof xKey === 'string' && xKey.length > 0 ? xKey : null
}

// Comparing SHA-256 digests keeps timingSafeEqual's equal-length requirement without leaking the
// key's length through an early return.
const digest = (value: string) => createHash('sha256').update(value).digest()

const isDocs = (url: string) => url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?')

export default fp<AuthOptions>(
  async (app, { apiKey }) => {
    app.decorateRequest('apiKeyId', null)
    if (!apiKey) {
      app.log.warn('API_KEY is not set: the API is open to anyone who can reach this port (fine for local development only)')
      app.decorate('authenticate', async () => undefined)
      return
    }
    const expected = digest(apiKey)
    const keyId = createHash('sha256').update('api-key-id:').update(expected).digest('base64url').slice(0, 16)
    const identify = (request: FastifyRequest): void => {
      const key = presentedKey(request)
      if (key !== null && timingSafeEqual(digest(key), expected)) request.apiKeyId = keyId
    }
    // Counts in the caller's global bucket unless a route limiter already ran for this request.
    const countFailure = app.rateLimit()

    async function authenticate(this: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> {
      // The swagger UI's static routes are registered by @fastify/swagger-ui without our route config.
      if (request.routeOptions.config.public || isDocs(request.url)) return
      // Truthiness, not null: the request Fastify builds for an error before routing lacks decorations.
      if (!request.apiKeyId) identify(request)
      if (request.apiKeyId) return
      await countFailure.call(app, request, reply)
      throw new ApiError('UNAUTHORIZED')
    }
    app.decorate('authenticate', authenticate)
    app.addHook('onRequest', async (request) => identify(request))
    app.addHook('preParsing', async (request, reply) => authenticate(request, reply))
  },
  { name: 'auth', fastify: '5.x', dependencies: ['rate-limit'] },
)
