// Idempotency keys in Postgres (whatsapp_idempotency_keys): claims hold across instances and restarts.
// Times are the database's (now()), so instances with skewed clocks agree. Answers are sealed (they
// name the recipient). New claims and answers are written by the send path's shared statement
// (../postgres-writes.ts): a claim shares it with other claims and with message rows, an answer (no
// request waits on it, see behind.ts) rides with the next one. A plain success whose message row that
// statement created is not written at all: the row, which every instance reads, answers for it.
import type { Sql } from '../../db/index.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import type { Sealer } from '../payload.js'
import { createSendWrites, type SendWrites } from '../postgres-writes.js'
import { IDEMPOTENCY_LOCK_MS, type Claim, type IdempotencyStore } from './types.js'

export { ANSWER_GATHER_MS } from '../postgres-writes.js'

interface Row {
  fingerprint: string
  message_id: string
  state: 'in_flight' | 'done'
  response_status: number | null
  response_body: string | null
  locked: boolean
}

export interface PostgresIdempotencyOptions {
  sql: Sql
  sealer: Sealer
  clock?: Clock
  /** The statement shared with the message store; a store of its own when absent. */
  writes?: SendWrites
}

export function createPostgresIdempotencyStore({ sql, sealer, clock = systemClock, writes = createSendWrites({ sql, clock }) }: PostgresIdempotencyOptions): IdempotencyStore {
  const lock = `${IDEMPOTENCY_LOCK_MS} milliseconds`
  return {
    async claim(scope, clientId, fingerprint, messageId): Promise<Claim> {
      if (await writes.claim({ scope, clientId, fingerprint, messageId })) return { kind: 'new', messageId }
      const [row] = await sql<Row[]>`
        SELECT fingerprint, message_id, state, response_status, response_body, locked_until > now() AS locked
          FROM whatsapp_idempotency_keys WHERE scope = ${scope}`
      if (!row) return this.claim(scope, clientId, fingerprint, messageId) // expired and purged meanwhile
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch' }
      if (row.state === 'done') {
        return { kind: 'replay', answer: { status: row.response_status ?? 200, body: JSON.parse(sealer.open(row.response_body ?? 'null')) } }
      }
      if (row.locked) return { kind: 'in_flight', messageId: row.message_id }
      const taken = await sql`
        UPDATE whatsapp_idempotency_keys SET locked_until = now() + ${lock}::interval
         WHERE scope = ${scope} AND state = 'in_flight' AND locked_until <= now()
        RETURNING 1`
      return taken.count > 0 ? { kind: 'takeover', messageId: row.message_id } : { kind: 'in_flight', messageId: row.message_id }
    },
    async complete(claim, answer, { recorded = false } = {}) {
      // One row write less per keyed send: the message row in the database says it all.
      if (writes.settle(claim) && recorded) return
      await writes.answer({ ...claim, status: answer.status, body: sealer.seal(JSON.stringify(answer.body)) })
    },
    async release(claim) {
      writes.settle(claim)
      await sql`DELETE FROM whatsapp_idempotency_keys WHERE scope = ${claim.scope} AND state = 'in_flight'`
    },
    async purge() {
      const result = await sql`DELETE FROM whatsapp_idempotency_keys WHERE expires_at < now()`
      return result.count
    },
  }
}
