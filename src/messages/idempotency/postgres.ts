// Idempotency keys in Postgres (whatsapp_idempotency_keys): claims hold across instances and restarts.
// Times are the database's (now()), so instances with skewed clocks agree. Answers are sealed (they
// name the recipient). New claims made while one statement is in flight go out together (group
// commit). Answers, which no request waits on (see behind.ts), ride with the next claim statement, or
// go out on their own after ANSWER_GATHER_MS: under load a keyed send costs one statement, not two.
import type { Sql } from '../../db/index.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { createGatherer } from '../../lib/gather.js'
import { createGroupCommit, firstOfEach } from '../../lib/group-commit.js'
import type { Sealer } from '../payload.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type Claim, type IdempotencyStore } from './types.js'

interface NewClaim {
  scope: string
  clientId: string
  fingerprint: string
  messageId: string
}

interface Answered {
  scope: string
  status: number
  body: string
}

interface Row {
  fingerprint: string
  message_id: string
  state: 'in_flight' | 'done'
  response_status: number | null
  response_body: string | null
  locked: boolean
}

/** How long answers gather before they are written together. */
export const ANSWER_GATHER_MS = 50

export function createPostgresIdempotencyStore({ sql, sealer, clock = systemClock }: { sql: Sql; sealer: Sealer; clock?: Clock }): IdempotencyStore {
  const lock = `${IDEMPOTENCY_LOCK_MS} milliseconds`
  const ttl = `${IDEMPOTENCY_TTL_MS} milliseconds`
  /**
   * One statement: keeps the answers (the last of each key) and inserts the new claims (a key claimed
   * before is taken only if it expired). Returns the scopes claimed.
   */
  async function write(batch: NewClaim[], answered: Answered[]): Promise<Set<string>> {
    const a = [...new Map(answered.map((i) => [i.scope, i])).values()]
    const rows = await sql<{ scope: string }[]>`
      WITH done AS (
        UPDATE whatsapp_idempotency_keys k
           SET state = 'done', response_status = a.st, response_body = a.b
          FROM unnest(${a.map((i) => i.scope)}::text[], ${a.map((i) => i.status)}::int[], ${a.map((i) => i.body)}::text[]) AS a(s, st, b)
         WHERE k.scope = a.s
      )
      INSERT INTO whatsapp_idempotency_keys AS k (scope, client_id, fingerprint, message_id, state, locked_until, created_at, expires_at)
      SELECT s, c, f, m, 'in_flight', now() + ${lock}::interval, now(), now() + ${ttl}::interval
        FROM unnest(${batch.map((i) => i.scope)}::text[], ${batch.map((i) => i.clientId)}::text[],
                    ${batch.map((i) => i.fingerprint)}::text[], ${batch.map((i) => i.messageId)}::text[]) AS u(s, c, f, m)
      ON CONFLICT (scope) DO UPDATE SET
        fingerprint = EXCLUDED.fingerprint, message_id = EXCLUDED.message_id, state = 'in_flight',
        response_status = NULL, response_body = NULL, locked_until = EXCLUDED.locked_until,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
      WHERE k.expires_at < now()
      RETURNING k.scope`
    return new Set(rows.map((r) => r.scope))
  }
  /** Answers wait ANSWER_GATHER_MS for a claim statement to carry them, then go out on their own. */
  const answers = createGatherer<Answered>({ ms: ANSWER_GATHER_MS, clock, write: async (items) => void (await write([], items)) })
  /** Claims every new key of the batch, and keeps the answers gathered so far, in one statement. */
  const claims = createGroupCommit<NewClaim, Set<NewClaim>>(async (items) => {
    const answered = answers.take()
    const done = new Set(answered.items.map((a) => a.scope))
    // One row per scope in a statement (ON CONFLICT cannot touch a row twice): a repeat finds the claim,
    // as does a claim of a key answered in this statement.
    const batch = firstOfEach(items, (i) => i.scope).filter((i) => !done.has(i.scope))
    let claimed: Set<string>
    try {
      claimed = await write(batch, answered.items)
    } catch (err) {
      answered.settle({ err })
      throw err
    }
    answered.settle(null)
    return new Set(batch.filter((i) => claimed.has(i.scope)))
  })

  return {
    async claim(scope, clientId, fingerprint, messageId): Promise<Claim> {
      const item: NewClaim = { scope, clientId, fingerprint, messageId }
      if ((await claims.submit(item)).has(item)) return { kind: 'new', messageId }
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
      await answers.add({ scope, status: answer.status, body: sealer.seal(JSON.stringify(answer.body)) })
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
