// Small route helpers shared by the route files.
import type { FastifyRequest } from 'fastify'

/**
 * POST routes whose body is optional: no body at all validates as {} (so defaults apply). A body that
 * was sent, even `null`, is validated as sent.
 */
export async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {}
}
