// Every error code the API can answer, with its HTTP status and a sentence the caller can act on, and
// the one error handler that turns any thrown error into the one body shape:
//   { error: { code, message, details? }, requestId }
// Errors are classified by type once, in toErrorBody. 5xx answers never carry the internal message
// (it is logged instead, with the request id).
import { errorCodes, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { CLIENT_ID_MAX_LENGTH, InvalidClientIdError } from './lib/client-id.js'
import { StoreUnavailableError } from './lib/store-errors.js'
import { MessageError } from './messages/errors.js'
import { WebhookError } from './webhooks/errors.js'
import { SessionError } from './whatsapp/errors.js'

export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid; fix the fields listed in details and retry.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON (or is empty while Content-Type says application/json); send a JSON object.' },
  BAD_URL: { status: 400, message: 'The URL cannot be decoded (a malformed %-escape); percent-encode it with encodeURIComponent.' },
  BAD_REQUEST: { status: 400, message: 'The HTTP request is malformed (see details.reason); fix the client and retry.' },
  INVALID_CLIENT_ID: { status: 400, message: 'clientId must be 1-128 letters, digits, ".", "_" or "-", not starting with ".".' },
  INVALID_PHONE: { status: 400, message: 'Give a phone number in international format (country code first, e.g. +14155550123) or a WhatsApp JID.' },
  UNSUPPORTED_RECIPIENT: { status: 400, message: 'This kind of recipient is not supported: send to a phone number, a user (...@s.whatsapp.net or ...@lid) or a group (...@g.us).' },
  INVALID_BASE64: { status: 400, message: 'media.base64 is not valid base64 (standard or URL-safe alphabet, optional padding, no data: prefix); encode the file again.' },
  MEDIA_URL_REFUSED: { status: 400, message: 'The media URL is refused: it must be https:// and resolve to a public address (private, loopback and link-local addresses are refused unless MEDIA_URL_ALLOWED_NETWORKS lists them).' },
  INVALID_MULTIPART: { status: 400, message: 'The multipart form is not usable: send the text fields first, then exactly one file part named in media (default "file").' },
  QUEUE_NOT_SUPPORTED: { status: 400, message: 'queue: true works with JSON requests (media by url or base64), not with a multipart upload; send the file by URL or base64, or without queue.' },
  WEBHOOK_URL_REFUSED: { status: 400, message: 'The webhook URL is refused (see details.reason): give an absolute http(s) URL without user:password@, on a host WEBHOOK_ALLOWED_HOSTS lists when it is set.' },
  WEBHOOK_HEADER_REFUSED: { status: 400, message: 'A custom webhook header is refused (see details.header): hop-by-hop and framing headers, webhook-* (the signature) and authorization/x-api-key/cookie/user-agent cannot be set; at most 20 headers.' },
  WEBHOOK_SECRET_INVALID: { status: 400, message: 'The webhook secret must be "whsec_" followed by base64 of 24 to 64 random bytes (Standard Webhooks); omit it to have one generated.' },
  UNAUTHORIZED: { status: 401, message: 'Missing or wrong API key: send it as "Authorization: Bearer <API_KEY>" or "x-api-key: <API_KEY>".' },
  FORBIDDEN: { status: 403, message: 'This path may not be read; use the endpoints listed at /docs.' },
  NOT_FOUND: { status: 404, message: 'No such route; see /docs for the list of endpoints.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No session with this clientId runs here; create it with POST /api/whatsapp/sessions or omit clientId for the default session.' },
  MESSAGE_NOT_FOUND: { status: 404, message: 'No message with this id is stored for this session (messages are kept MESSAGE_RETENTION_DAYS); check the id and clientId.' },
  MESSAGE_HAS_NO_MEDIA: { status: 404, message: 'This message carries no downloadable media (image, video, audio, document or sticker).' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'This session has no webhook of its own; set one with PUT /api/whatsapp/webhook.' },
  STORED_SESSION_NOT_FOUND: { status: 404, message: 'No session with this clientId is running or stored.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive completely in time (REQUEST_TIMEOUT_MS); send the whole body at once, matching Content-Length.' },
  SESSION_EXISTS: { status: 409, message: 'A session with this clientId already runs; use it, or DELETE it first.' },
  ALREADY_CONNECTED: { status: 409, message: 'The session is already connected to WhatsApp; no QR or pairing code is needed. DELETE the session to link another account.' },
  SESSION_NOT_OPEN: { status: 409, message: 'The session is not connected to WhatsApp; check GET /api/whatsapp/status, scan the QR or wait for the reconnect, then retry.' },
  PAIRING_NOT_AVAILABLE: { status: 409, message: 'A pairing code can only be requested while the session waits for a link (status "qr"); retry when GET /api/whatsapp/status says so.' },
  SESSION_STOPPED: { status: 409, message: 'The session is stopping or stopped; create it again with POST /api/whatsapp/sessions.' },
  SESSION_UNREADABLE: { status: 409, message: 'The stored session cannot be opened with this configuration (see details.reason: usually SESSION_ENCRYPTION_KEY); nothing was changed.' },
  LEASE_HELD_ELSEWHERE: { status: 409, message: 'Another instance holds this session (see lease in GET /api/whatsapp/status); call that instance, or stop it and this one takes over.' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, message: 'A request with this Idempotency-Key is still being processed; wait for its answer, then retry with the same key to read it.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The body is larger than the server accepts (256 KiB; POST /send: SEND_BODY_MAX_BYTES); send a smaller request, and large media by URL or multipart upload.' },
  MEDIA_TOO_LARGE: { status: 413, message: 'The media is larger than MEDIA_MAX_BYTES; send a smaller file.' },
  URL_TOO_LONG: {
    status: 414,
    message: `A path segment is longer than the server accepts (a clientId has at most ${CLIENT_ID_MAX_LENGTH} characters); shorten it.`,
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as JSON with "Content-Type: application/json".' },
  IDEMPOTENCY_KEY_MISMATCH: { status: 422, message: 'This Idempotency-Key was used with a different request body; use a new key for a different message.' },
  MEDIA_TYPE_MISMATCH: { status: 422, message: 'The media content does not match the message type (checked on the bytes, see details); send a file of an accepted type.' },
  MEDIA_FETCH_FAILED: { status: 422, message: 'The media URL could not be fetched (see details.reason: status, timeout, too many redirects); check that the URL serves the file.' },
  QUOTED_MESSAGE_NOT_FOUND: { status: 422, message: 'quotedMessageId names no message stored for this session (sent or received in the last MESSAGE_RETENTION_DAYS); check the id.' },
  TARGET_MESSAGE_NOT_FOUND: { status: 422, message: 'messageId names no message stored for this session (sent or received in the last MESSAGE_RETENTION_DAYS); check the id.' },
  NOT_OWN_MESSAGE: { status: 422, message: 'Only messages this account sent can be edited or deleted; messageId names a received message.' },
  MISDIRECTED_UPLOAD: { status: 421, message: 'This multipart upload names, in a form field, a session another instance holds; put clientId in the query string (?clientId=...) so the upload is routed to it before it is read.' },
  QR_NOT_READY: { status: 425, message: 'No QR code yet: the session is still connecting to WhatsApp. Retry after the number of seconds in Retry-After.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; wait for the number of seconds in Retry-After and retry.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers (with the URL) are larger than the server accepts (16 KiB); send fewer or smaller headers.' },
  INTERNAL: { status: 500, message: 'Internal error; the server logged it with this requestId.' },
  SEND_FAILED: { status: 502, message: 'WhatsApp did not accept the request; check the recipient and the session status, then retry.' },
  MEDIA_DOWNLOAD_FAILED: { status: 502, message: 'WhatsApp\'s media server did not return the file (it may have expired); retry later or ask the sender to send it again.' },
  STORE_UNAVAILABLE: { status: 503, message: 'Session storage is unavailable; check the database and the session folder.' },
  SESSION_LIMIT_REACHED: { status: 503, message: 'This server already runs MAX_SESSIONS sessions; delete one, raise MAX_SESSIONS (memory permitting) or run another instance.' },
  NOT_READY: { status: 503, message: 'The server is not ready: session storage is unreachable.' },
  SEND_NOT_ACKNOWLEDGED: { status: 504, message: 'The message was handed to WhatsApp but its server did not acknowledge it in time (SEND_ACK_TIMEOUT_MS); check GET /api/whatsapp/messages/:id before sending again.' },
  SESSION_MOVING: { status: 503, message: 'The session is moving to another instance and no instance holds it right now; retry after the number of seconds in Retry-After.' },
  HOLDER_UNREACHABLE: { status: 503, message: 'The instance holding this session did not answer a forwarded request (see details.reason); retry after the number of seconds in Retry-After (a dead instance\'s sessions move to the others).' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; retry in a moment (another instance, or this one once restarted, answers).' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCatalogue

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
  if (err instanceof SessionError || err instanceof MessageError || err instanceof WebhookError) {
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
