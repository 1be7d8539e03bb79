// Every error code the API can answer, with its HTTP status and a sentence the caller can act on, and
// the one error handler that turns any thrown error into the one body shape:
//   { error: { code, message, details? }, requestId }
// 5xx answers never carry the internal message (it is logged instead, with the request id).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidClientIdError } from './lib/client-id.js'
import { SessionError } from './whatsapp/errors.js'

export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid; fix the fields listed in details and retry.' },
  INVALID_CLIENT_ID: {
    status: 400,
    message: 'clientId must be 1-128 letters, digits, ".", "_" or "-", not starting with ".".',
  },
  INVALID_PHONE: {
    status: 400,
    message: 'Give a phone number in international format (country code first, e.g. +14155550123) or a WhatsApp JID.',
  },
  UNAUTHORIZED: {
    status: 401,
    message: 'Missing or wrong API key: send it as "Authorization: Bearer <API_KEY>" or "x-api-key: <API_KEY>".',
  },
  NOT_FOUND: { status: 404, message: 'No such route; see /docs for the list of endpoints.' },
  SESSION_NOT_FOUND: {
    status: 404,
    message: 'No session with this clientId runs here; create it with POST /api/whatsapp/sessions or omit clientId for the default session.',
  },
  STORED_SESSION_NOT_FOUND: { status: 404, message: 'No session with this clientId is running or stored.' },
  SESSION_EXISTS: { status: 409, message: 'A session with this clientId already runs; use it, or DELETE it first.' },
  ALREADY_CONNECTED: {
    status: 409,
    message: 'The session is already connected to WhatsApp; no QR or pairing code is needed. DELETE the session to link another account.',
  },
  SESSION_NOT_OPEN: {
    status: 409,
    message: 'The session is not connected to WhatsApp; check GET /api/whatsapp/status, scan the QR or wait for the reconnect, then retry.',
  },
  PAIRING_NOT_AVAILABLE: {
    status: 409,
    message: 'A pairing code can only be requested while the session waits for a link (status "qr"); retry when GET /api/whatsapp/status says so.',
  },
  SESSION_STOPPED: { status: 409, message: 'The session is stopping or stopped; create it again with POST /api/whatsapp/sessions.' },
  SESSION_UNREADABLE: {
    status: 409,
    message: 'The stored session cannot be opened with this configuration (see details.reason: usually SESSION_ENCRYPTION_KEY); nothing was changed.',
  },
  LEASE_HELD_ELSEWHERE: {
    status: 409,
    message: 'Another instance holds this session (see lease in GET /api/whatsapp/status); call that instance, or stop it and this one takes over.',
  },
  QR_NOT_READY: {
    status: 425,
    message: 'No QR code yet: the session is still connecting to WhatsApp. Retry after the number of seconds in Retry-After.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests; wait for the number of seconds in Retry-After and retry.' },
  INTERNAL: { status: 500, message: 'Internal error; the server logged it with this requestId.' },
  SEND_FAILED: {
    status: 502,
    message: 'WhatsApp did not accept the request; check the recipient and the session status, then retry.',
  },
  STORE_UNAVAILABLE: { status: 503, message: 'Session storage is unavailable; check the database and the session folder.' },
  SESSION_LIMIT_REACHED: {
    status: 503,
    message: 'This server already runs MAX_SESSIONS sessions; delete one, raise MAX_SESSIONS (memory permitting) or run another instance.',
  },
  NOT_READY: { status: 503, message: 'The server is not ready: session storage is unreachable.' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCatalogue

export class ApiError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ErrorCode,
    options: { message?: string; details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(options.message ?? errorCatalogue[code].message, { cause: options.cause })
    this.name = 'ApiError'
    this.statusCode = errorCatalogue[code].status
    this.details = options.details
    this.headers = options.headers
  }
  readonly details: unknown
  readonly headers: Record<string, string> | undefined
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
  requestId: string
}

/** Readable one-liners from Fastify/Ajv validation errors, e.g. "body.to is required". */
function validationDetails(err: FastifyError): { field: string; problem: string }[] {
  const where = err.validationContext ?? 'request'
  return (err.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty
    const path = `${where}${v.instancePath.replace(/\//g, '.')}${missing ? `.${missing}` : ''}`
    return { field: path, problem: missing ? 'is required' : (v.message ?? 'is invalid') }
  })
}

/** Maps any error to [status, body]; exported so the 404 and rate-limit paths share it. */
export function toErrorBody(err: unknown, requestId: string): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message }, requestId }
    if (err.details !== undefined) body.error.details = err.details
    return { status: err.statusCode, body, headers: err.headers }
  }
  if (err instanceof InvalidClientIdError) return toErrorBody(new ApiError('INVALID_CLIENT_ID'), requestId)
  if (err instanceof SessionError) {
    // The catalogue sentence says how to fix it; the session's own sentence says what exactly was wrong.
    const extra = typeof err.details === 'object' && err.details !== null ? err.details : {}
    return toErrorBody(new ApiError(err.code, { details: { reason: err.message, ...extra } }), requestId)
  }
  const fe = err as FastifyError
  if (fe && Array.isArray(fe.validation)) {
    const details = validationDetails(fe)
    const message = `Invalid request: ${details.map((d) => `${d.field} ${d.problem}`).join('; ')}.`
    return { status: 400, body: { error: { code: 'VALIDATION_FAILED', message, details }, requestId } }
  }
  // Fastify's own 4xx (bad JSON, unsupported media type, body too large) have safe messages.
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = status === 429 ? 'RATE_LIMITED' : status === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED'
    return { status, body: { error: { code, message: fe.message }, requestId } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: errorCatalogue.INTERNAL.message }, requestId } }
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, headers } = toErrorBody(err, request.id)
    if (status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: body.error.code, status }, 'request rejected')
    if (headers) reply.headers(headers)
    return reply.code(status).type('application/json').send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toErrorBody(new ApiError('NOT_FOUND'), request.id)
    return reply.code(status).send(body)
  })
}
