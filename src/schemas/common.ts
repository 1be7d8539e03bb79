// Schemas shared by every route: the one error body, the clientId selector, the session states, an
// empty query string, and a helper that lists the error answers of a route in its OpenAPI entry.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox'
import { errorCatalogue, type ErrorBody as ErrorBodyType, type ErrorCode } from '../errors.js'
import { CLIENT_ID_PATTERN } from '../lib/client-id.js'
import { groupBy } from '../lib/group-by.js'
import { SESSION_STATES } from '../lib/session-states.js'

export const ClientId = Type.String({
  pattern: CLIENT_ID_PATTERN,
  description: 'Session to act on; defaults to the server\'s CLIENT_ID',
  examples: ['rafi-scheme-manager'],
})

export const ClientIdQuery = Type.Object({ clientId: Type.Optional(ClientId) }, { additionalProperties: false })

/** The query string of a route that takes none: any key is a 400 naming it. */
export const NoQuery = Type.Object({}, { additionalProperties: false })

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code', examples: ['SESSION_NOT_OPEN'] }),
      message: Type.String({ description: 'What happened and how to fix it' }),
      details: Type.Optional(Type.Unknown()),
    }),
    requestId: Type.String({ examples: ['req-1'] }),
  },
  { $id: 'ErrorBody', description: 'Every error answer has this shape' },
)

/** What any route acting on one session can also answer in a cluster (see src/plugins/routing.ts). */
export const ROUTING_ERRORS = ['SESSION_MOVING', 'HOLDER_UNREACHABLE'] as const satisfies readonly ErrorCode[]

/** Response schemas for the given error codes, grouped by status, with the codes in the description. */
export function errorResponses(...codes: ErrorCode[]): Record<number, TUnsafe<ErrorBodyType>> {
  const always: ErrorCode[] = ['UNAUTHORIZED', 'RATE_LIMITED', 'INTERNAL']
  const out: Record<number, TUnsafe<ErrorBodyType>> = {}
  for (const [status, list] of groupBy([...codes, ...always], (code) => errorCatalogue[code].status)) out[status] = Type.Unsafe<ErrorBodyType>(Type.Ref('ErrorBody', { description: list.join(', ') }))
  return out
}

// Nullable values and string enums are written as `type: [t, 'null']` and `enum` rather than TypeBox
// unions: a union is an `anyOf`, which fast-json-stringify can only serialise by running Ajv on each
// branch for every response (it halved GET /status throughput). @fastify/swagger turns both into
// OpenAPI 3.0's `nullable`/`enum`.
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type as string, 'null'] })
}

export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

export const Timestamp = Type.String({ format: 'date-time', examples: ['2025-01-01T12:00:00.000Z'] })
export const NullableTimestamp = Nullable(Timestamp)

export const SessionStateSchema = StringEnum(SESSION_STATES, {
  description: 'starting | qr (waiting for a scan) | connecting | open | reconnecting (backing off) | logged_out | replaced (another client took over; POST /reconnect to take it back) | stopped | standby',
})
