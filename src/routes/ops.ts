// Liveness, readiness and metrics. /health and /ready are public (load balancers, Fly.io checks) and
// not rate limited: they check no key, so they cannot serve to guess one. /metrics follows
// METRICS_PUBLIC; scrapes with the key are not limited, a wrong key counts like on any other route.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiError } from '../errors.js'
import { errorResponses, NoQuery } from '../schemas/common.js'
import { HealthResponse, MetricsResponse, ReadyResponse } from '../schemas/ops.js'

const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['ops']
  const open = { public: true, rateLimit: false } as const

  app.get('/health', {
    config: open,
    schema: { tags, summary: 'Liveness: the process answers', security: [], querystring: NoQuery, response: { 200: HealthResponse } },
  }, async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }))

  app.get('/ready', {
    config: open,
    schema: {
      tags,
      summary: 'Readiness: session storage usable (database reachable, or knowingly degraded to the file mirror)',
      security: [],
      querystring: NoQuery,
      response: { 200: ReadyResponse, ...errorResponses('NOT_READY') },
    },
  }, async () => {
    let reachable: boolean | null
    try {
      reachable = await app.store.ping()
    } catch (err) {
      throw new ApiError('NOT_READY', { cause: err })
    }
    const counts = app.sessions.countByState()
    const sessions = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))
    return {
      status: reachable === false ? ('degraded' as const) : ('ready' as const),
      storage: app.store.mode,
      databaseReachable: reachable,
      sessions,
      resume: app.sessions.resumeProgress(),
    }
  })

  app.get('/metrics', {
    config: { public: app.config.metricsPublic, rateLimit: false },
    schema: {
      tags,
      summary: 'Prometheus metrics',
      ...(app.config.metricsPublic ? { security: [] } : {}),
      produces: ['text/plain'],
      querystring: NoQuery,
      response: { 200: MetricsResponse, ...errorResponses() },
    },
  }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}

export default opsRoutes
