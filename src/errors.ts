// The one error handler that turns any thrown error into the one body shape (the codes, their statuses
// and sentences are the catalogue in error-catalogue.ts, re-exported here):
//   { error: { code, message, details? }, requestId }
// Errors are classified by type once, in toErrorBody. 5xx answers never carry the internal message
// (it is logged instead, with the request id).
import { errorCodes, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { InvalidClientIdError } from './lib/client-id.js'
import { StoreUnavailableError } from './lib/store-errors.js'
import { CodedError, errorCatalogue, type ErrorCode } from './error-catalogue.js'
import { SessionError } from './whatsapp/errors.js'

export { errorCatalogue, type ErrorCode } from './error-catalogue.js'

export class ApiError extends Error {
  readonly statusCode: number
  readonly details: unknown
  readonly headers: Record<string, string> | undefined
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
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
  requestId: string
}

type ErrorClass = abstract new (...args: never[]) => Error

/** Errors of these types always mean the same thing to the caller: one code each. */
const CODE_BY_TYPE: ReadonlyArray<readonly [ErrorClass, ErrorCode]> = [
  [InvalidClientIdError, 'INVALID_CLIENT_ID'],
  [StoreUnavailableError, 'STORE_UNAVAILABLE'],
  [errorCodes.FST_ERR_CTP_INVALID_JSON_BODY, 'INVALID_JSON'],
  [errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY, 'INVALID_JSON'],
  [errorCodes.FST_ERR_CTP_BODY_TOO_LARGE, 'PAYLOAD_TOO_LARGE'],
  [errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE, 'UNSUPPORTED_MEDIA_TYPE'],
  [errorCodes.FST_ERR_BAD_URL, 'BAD_URL'],
  [errorCodes.FST_ERR_MAX_PARAM_LENGTH, 'URL_TOO_LONG'],
]

/** Other client errors (from Fastify or a plugin), by HTTP status; anything else 4xx is BAD_REQUEST. */
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URL_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
}

/** The catalogue error for anything thrown while answering a request. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof SessionError || err instanceof CodedError) {
    // The catalogue sentence says how to fix it; the session's own sentence says what exactly was wrong.
    const extra = typeof err.details === 'object' && err.details !== null ? err.details : {}
    return new ApiError(err.code, { details: { reason: err.message, ...extra }, cause: err })
  }
  for (const [type, code] of CODE_BY_TYPE) if (err instanceof type) return new ApiError(code, { cause: err })
  const status = (err as Partial<FastifyError> | null)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's and its plugins' own 4xx messages are safe to show.
    return new ApiError(CODE_BY_STATUS[status] ?? 'BAD_REQUEST', { details: { reason: (err as Error).message }, cause: err })
  }
  return new ApiError('INTERNAL', { cause: err })
}

/** Maps any error to [status, body, headers]. */
export function toErrorBody(err: unknown, requestId: string): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  const apiError = toApiError(err)
  const body: ErrorBody = { error: { code: apiError.code, message: apiError.message }, requestId }
  if (apiError.details !== undefined) body.error.details = apiError.details
  return { status: apiError.statusCode, body, headers: apiError.headers }
}

/**
 * Answers an error in the one shape, and logs it: an unexpected error with its stack, a deliberate 5xx
 * (storage down, shutting down) with its cause as a warning, a client's mistake as one line.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body, headers } = toErrorBody(err, request.id)
  if (body.error.code === 'INTERNAL') request.log.error({ err }, 'request failed')
  else if (status >= 500) request.log.warn({ err, code: body.error.code, status }, 'request not served')
  else request.log.info({ code: body.error.code, status }, 'request rejected')
  if (headers) reply.headers(headers)
  return reply.code(status).type('application/json').send(body)
}

/** Readable one-liners from Ajv errors: "body.text is required", "body.client_id is not an accepted field". */
export function validationError(errors: ReadonlyArray<{ instancePath: string; message?: string; params: unknown }>, part: string): ApiError {
  const details = errors.map((v) => {
    const params = (v.params ?? {}) as { missingProperty?: string; additionalProperty?: string; tag?: string; tagValue?: unknown }
    const path = `${part}${v.instancePath.replace(/\//g, '.')}`
    // A discriminated body (POST /send): the tag names no variant.
    if (params.tag !== undefined) {
      return { field: `${path}.${params.tag}`, problem: params.tagValue === undefined ? 'is required' : 'is not one of the accepted values (see /docs)' }
    }
    if (params.missingProperty !== undefined) return { field: `${path}.${params.missingProperty}`, problem: 'is required' }
    if (params.additionalProperty !== undefined) return { field: `${path}.${params.additionalProperty}`, problem: 'is not an accepted field' }
    return { field: path, problem: v.message ?? 'is invalid' }
  })
  const message = `Invalid request: ${details.map((d) => `${d.field} ${d.problem}`).join('; ')}.`
  return new ApiError('VALIDATION_FAILED', { message, details })
}

/**
 * The error handler, and the 503 SHUTTING_DOWN answer for requests that still arrive (on open
 * keep-alive connections) once app.close() has begun.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => sendError(request, reply, err))
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  // Callback style: this runs on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (_request, _reply, done) => done(closing ? new ApiError('SHUTTING_DOWN') : undefined))
}
