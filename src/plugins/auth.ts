// API key authentication. With API_KEY unset (development) every route is open; with it set, every
// route needs "Authorization: Bearer <key>" or "x-api-key: <key>" except routes marked public
// (/health, /ready, the /docs UI, and /metrics when METRICS_PUBLIC=true).
//
// Two steps so the rate limiter sits between them: onRequest only identifies the caller (the limiter
// then buckets valid keys per key and everything else per IP, so guessing keys is rate limited too);
// preParsing rejects unauthenticated requests.
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
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
      return
    }
    const expected = digest(apiKey)
    const keyId = createHash('sha256').update('api-key-id:').update(expected).digest('base64url').slice(0, 16)
    app.addHook('onRequest', async (request) => {
      const key = presentedKey(request)
      if (key !== null && timingSafeEqual(digest(key), expected)) request.apiKeyId = keyId
    })
    app.addHook('preParsing', async (request) => {
      // The swagger UI's static routes are registered by @fastify/swagger-ui without our route config.
      if (request.apiKeyId !== null || request.routeOptions.config.public || isDocs(request.url)) return
      throw new ApiError('UNAUTHORIZED')
    })
  },
  { name: 'auth', fastify: '5.x' },
)
