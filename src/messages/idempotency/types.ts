// Idempotency keys: the same key (per API key and session) within 24 h gives the first answer and
// sends nothing; while the first request runs, 409; with a different body, 422. The contract both
// stores (postgres.ts, file.ts) implement; the scope is a hash, the key itself is never stored.
import { createHash, type Hash } from 'node:crypto'

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000

/**
 * The oldest a stored message may be when the purge runs: the retention, but never less than a key's
 * 24 h plus ten minutes, so a message outlives the key whose answer it gives (see run.ts) even when
 * this instance's clock runs ahead of the database's.
 */
export function messagePurgeCutoff(now: number, retentionDays: number): Date {
  return new Date(now - Math.max(retentionDays * 86_400_000, IDEMPOTENCY_TTL_MS + 10 * 60_000))
}

/**
 * How long a claim lasts: a request still "in flight" after this was cut short (the instance died);
 * a retry then takes over and sends with the same message id, which WhatsApp delivers once.
 */
export const IDEMPOTENCY_LOCK_MS = 5 * 60_000

export interface Answer {
  status: number
  body: unknown
}

export type Claim =
  | { kind: 'new'; messageId: string }
  /** The earlier claim expired unfinished: carry on with its message id. */
  | { kind: 'takeover'; messageId: string }
  | { kind: 'replay'; answer: Answer }
  /** The first request is running, or it sent its message and its answer is not kept (see complete). */
  | { kind: 'in_flight'; messageId?: string }
  | { kind: 'mismatch' }

/** A key claimed by a request: its scope, who claimed it, its body's fingerprint and its message id. */
export interface KeyClaim {
  scope: string
  clientId: string
  fingerprint: string
  messageId: string
}

export interface IdempotencyStore {
  /** Claims the scope for this request, or says why not. messageId is used only for a new claim. */
  claim(scope: string, clientId: string, fingerprint: string, messageId: string): Promise<Claim>
  /**
   * Records the answer to a claim this request holds: later requests with the key get it.
   * `recorded`: the answer is the one the message store gives for the message sent under the claim's
   * id (IdempotentRun.recorded). A store may then leave it unwritten if every instance reads that
   * message where this one wrote it: a repeat finds the claim in flight and answers from the message.
   */
  complete(claim: KeyClaim, answer: Answer, options?: { recorded?: boolean }): Promise<void>
  /** Nothing was sent: forget the claim, so a retry with the key runs again. */
  release(claim: KeyClaim): Promise<void>
  /** Removes keys past their 24 h; returns how many. */
  purge(now: Date): Promise<number>
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** The stored scope: API key, session and key, hashed together. */
export function idempotencyScope(apiKeyId: string | null, clientId: string, key: string): string {
  return sha256(JSON.stringify([apiKeyId ?? '', clientId, key]))
}

/**
 * A fingerprint of the request: the validated body with keys sorted, plus the uploaded file's hash.
 * It is the SHA-256 of JSON.stringify([body with keys sorted, upload hash or null]), fed to the hash
 * piece by piece: a base64 media body is one string of hundreds of KB, and a copy of it costs more
 * than hashing it.
 *
 * `escapeFree`: the body was parsed from JSON text without a backslash. Such text has no escape
 * sequence, so none of its strings holds a character JSON.stringify escapes (a quote, a backslash and
 * control characters must be escaped in JSON, a lone surrogate can only be written as one): the check
 * of every string, a scan of hundreds of KB for base64 media, is skipped.
 */
export function requestFingerprint(body: unknown, uploadSha256?: string, { escapeFree = false }: { escapeFree?: boolean } = {}): string {
  const hash = createHash('sha256')
  feedJson(hash, [body, uploadSha256 ?? null], escapeFree ? null : ESCAPED)
  return hash.digest('hex')
}

/** Characters JSON.stringify escapes in a string (and surrogates, left to it). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/

/** Feeds the hash exactly what JSON.stringify would produce, with object keys sorted. escaped: null when no string needs escaping. */
function feedJson(hash: Hash, value: unknown, escaped: RegExp | null): void {
  if (typeof value === 'string') {
    if (escaped === null || !escaped.test(value)) hash.update('"').update(value).update('"')
    else hash.update(JSON.stringify(value))
  } else if (Array.isArray(value)) {
    hash.update('[')
    value.forEach((item, i) => {
      if (i > 0) hash.update(',')
      feedJson(hash, item === undefined ? null : item, escaped)
    })
    hash.update(']')
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))
    hash.update('{')
    entries.forEach(([key, v], i) => {
      hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`)
      feedJson(hash, v, escaped)
    })
    hash.update('}')
  } else {
    hash.update(JSON.stringify(value) ?? 'null')
  }
}

/** Visible ASCII, 1-255 characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
