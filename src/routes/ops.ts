// Liveness, readiness and metrics. /health and /ready are public (load balancers, Fly.io checks) and
// not rate limited; /metrics follows METRICS_PUBLIC.
import type { FastifyInstance } from 'fastify'
import { ApiError } from '../errors.js'
import { errorResponses } from '../schemas/common.js'
import { HealthResponse, MetricsResponse, ReadyResponse } from '../schemas/ops.js'

export default async function opsRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['ops']
  const open = { public: true, rateLimit: false } as const

  app.get('/health', {
    config: open,
    schema: { tags, summary: 'Liveness: the process answers', security: [], response: { 200: HealthResponse } },
  }, async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }))

  app.get('/ready', {
    config: open,
    schema: {
      tags,
      summary: 'Readiness: session storage usable (database reachable, or knowingly degraded to the file mirror)',
      security: [],
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
      response: { 200: MetricsResponse, ...errorResponses() },
    },
  }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}
