// Schemas of /health, /ready and /metrics.
import { Type } from '@sinclair/typebox'

export const HealthResponse = Type.Object(
  { status: Type.Literal('ok'), uptimeSeconds: Type.Integer() },
  { examples: [{ status: 'ok', uptimeSeconds: 42 }] },
)

export const ReadyResponse = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')], {
      description: 'degraded: the database is unreachable but sessions keep running on the file mirror',
    }),
    storage: Type.Union([Type.Literal('file'), Type.Literal('postgres')]),
    databaseReachable: Type.Union([Type.Boolean(), Type.Null()]),
    sessions: Type.Record(Type.String(), Type.Integer(), { description: 'Running sessions by state' }),
  },
  { examples: [{ status: 'ready', storage: 'postgres', databaseReachable: true, sessions: { open: 1 } }] },
)

export const MetricsResponse = Type.String({ description: 'Prometheus text exposition format' })
