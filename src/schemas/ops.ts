// Schemas of /health, /ready and /metrics.
import { Type } from '@sinclair/typebox'
import { Nullable, StringEnum } from './common.js'

export const HealthResponse = Type.Object(
  { status: Type.Literal('ok'), uptimeSeconds: Type.Integer() },
  { examples: [{ status: 'ok', uptimeSeconds: 42 }] },
)

export const ReadyResponse = Type.Object(
  {
    status: StringEnum(['ready', 'degraded'], {
      description: 'degraded: the database is unreachable but sessions keep running on the file mirror',
    }),
    storage: StringEnum(['file', 'postgres']),
    databaseReachable: Nullable(Type.Boolean()),
    sessions: Type.Record(Type.String(), Type.Integer(), { description: 'Running sessions by state' }),
  },
  { examples: [{ status: 'ready', storage: 'postgres', databaseReachable: true, sessions: { open: 1 } }] },
)

export const MetricsResponse = Type.String({ description: 'Prometheus text exposition format' })
