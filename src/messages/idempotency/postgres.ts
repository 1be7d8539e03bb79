// Idempotency keys in Postgres (whatsapp_idempotency_keys): claims hold across instances and restarts.
// Times are the database's (now()), so instances with skewed clocks agree. Answers are sealed (they
// name the recipient).
import type { Sql } from '../../db/index.js'
import type { Sealer } from '../payload.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type Claim, type IdempotencyStore } from './types.js'

interface Row {
  fingerprint: string
  message_id: string
  state: 'in_flight' | 'done'
  response_status: number | null
  response_body: string | null
  locked: boolean
}

export function createPostgresIdempotencyStore({ sql, sealer }: { sql: Sql; sealer: Sealer }): IdempotencyStore {
  const lock = `${IDEMPOTENCY_LOCK_MS} milliseconds`
  const ttl = `${IDEMPOTENCY_TTL_MS} milliseconds`
  return {
    async claim(scope, clientId, fingerprint, messageId): Promise<Claim> {
      const claimed = await sql`
        INSERT INTO whatsapp_idempotency_keys AS k (scope, client_id, fingerprint, message_id, state, locked_until, created_at, expires_at)
        VALUES (${scope}, ${clientId}, ${fingerprint}, ${messageId}, 'in_flight', now() + ${lock}::interval, now(), now() + ${ttl}::interval)
        ON CONFLICT (scope) DO UPDATE SET
          fingerprint = EXCLUDED.fingerprint, message_id = EXCLUDED.message_id, state = 'in_flight',
          response_status = NULL, response_body = NULL, locked_until = EXCLUDED.locked_until,
          created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE k.expires_at < now()
        RETURNING 1`
      if (claimed.count > 0) return { kind: 'new', messageId }
      const [row] = await sql<Row[]>`
        SELECT fingerprint, message_id, state, response_status, response_body, locked_until > now() AS locked
          FROM whatsapp_idempotency_keys WHERE scope = ${scope}`
      if (!row) return this.claim(scope, clientId, fingerprint, messageId) // expired and purged meanwhile
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' }
      if (row.state === 'done') {
        return { kind: 'replay', answer: { status: row.response_status ?? 200, body: JSON.parse(sealer.open(row.response_body ?? 'null')) } }
      }
      if (row.locked) return { kind: 'in_flight' }
      const taken = await sql`
        UPDATE whatsapp_idempotency_keys SET locked_until = now() + ${lock}::interval
         WHERE scope = ${scope} AND state = 'in_flight' AND locked_until <= now()
        RETURNING 1`
      return taken.count > 0 ? { kind: 'takeover', messageId: row.message_id } : { kind: 'in_flight' }
    },
    async complete(scope, answer) {
      await sql`
        UPDATE whatsapp_idempotency_keys
           SET state = 'done', response_status = ${answer.status}, response_body = ${sealer.seal(JSON.stringify(answer.body))}
         WHERE scope = ${scope}`
    },
    async release(scope) {
      await sql`DELETE FROM whatsapp_idempotency_keys WHERE scope = ${scope} AND state = 'in_flight'`
    },
    async purge() {
      const result = await sql`DELETE FROM whatsapp_idempotency_keys WHERE expires_at < now()`
      return result.count
    },
  }
}
