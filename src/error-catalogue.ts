// Every error code the API can answer, with its HTTP status and a sentence the caller can act on, and
// the base class of the domain errors that carry one of these codes. Data only: the features (sessions,
// messages, webhooks) raise coded errors from here without knowing about HTTP, and src/errors.ts maps
// them to answers.
import { CLIENT_ID_MAX_LENGTH } from './lib/client-id.js'

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
  MEDIA_UPLOAD_FAILED: { status: 502, message: 'WhatsApp\'s media server did not take the file, so nothing was sent; retry the request (with the same Idempotency-Key, if it had one).' },
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

/** A domain error with a catalogue code; the error handler answers it with the code's status. */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = new.target.name
  }
}
