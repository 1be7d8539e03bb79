// Answers for requests Node rejects before Fastify sees them (headers too large, a request that does
// not arrive within the request timeout, malformed HTTP): written straight to the socket, but in the
// same body shape as every other error, with a request id that is also logged.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { errorCatalogue, type ErrorBody, type ErrorCode } from '../errors.js'

function codeOf(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE'
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT'
  return 'BAD_REQUEST'
}

/** Fastify's clientErrorHandler option. */
export function createClientErrorHandler(log: FastifyBaseLogger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const code = codeOf(err)
    const { status, message } = errorCatalogue[code]
    const requestId = randomUUID()
    const body: ErrorBody = { error: { code, message }, requestId }
    if (code === 'BAD_REQUEST') body.error.details = { reason: err.code ?? 'malformed HTTP' }
    const json = JSON.stringify(body)
    log.info({ code, status, requestId, reason: err.code }, 'request rejected before routing')
    if (!socket.writable) {
      socket.destroy()
      return
    }
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n`
    // Destroyed once written: whatever the client still sends is not read.
    socket.end(head + json, () => socket.destroy())
  }
}
