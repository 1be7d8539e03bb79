// Small route helpers shared by the route files.
import type { FastifyRequest } from 'fastify'

/** POST routes whose body is optional: a missing body validates as {} (so defaults apply). */
export async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  request.body ??= {}
}

/** clientId from the body, then the query string, else the server's default session. */
export function clientIdOf(request: FastifyRequest, fallback: string): string {
  const fromBody = (request.body as { clientId?: unknown } | undefined)?.clientId
  const fromQuery = (request.query as { clientId?: unknown } | undefined)?.clientId
  if (typeof fromBody === 'string') return fromBody
  if (typeof fromQuery === 'string') return fromQuery
  return fallback
}
