// Request rate limits: a global limit, and a stricter one on POST /send (set per route through
// config.rateLimit). Callers with a valid API key are counted per key (by a hash: the key itself never
// lands in the limiter's memory), everyone else per client IP - including callers guessing keys, on
// every route (the auth plugin counts a failed authentication where no route limit ran: /metrics,
// unknown paths). Unknown paths are limited too. /health and /ready are not: they check no key.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { TrustProxy } from '../config.js'
import { ApiError } from '../errors.js'
import { clientIpResolver, ipBucket } from '../http/client-ip.js'

export interface RateLimitOptions {
  max: number
  windowMs: number
  trustProxy: TrustProxy
}

export default fp<RateLimitOptions>(
  async (app, { max, windowMs, trustProxy }) => {
    const clientIp = clientIpResolver(trustProxy)
    await app.register(rateLimit, {
      global: true,
      max,
      timeWindow: windowMs,
      hook: 'onRequest',
      keyGenerator: (request) => (request.apiKeyId ? `key:${request.apiKeyId}` : `ip:${ipBucket(clientIp(request))}`),
      // Thrown by the plugin, so it goes through our error handler and gets the one error shape.
      errorResponseBuilder: (_request, context) =>
        new ApiError('RATE_LIMITED', {
          message: `Too many requests: the limit is ${context.max} per ${Math.round(windowMs / 1000)} s; retry in ${context.after}.`,
        }),
    })
  },
  { name: 'rate-limit', fastify: '5.x' },
)
