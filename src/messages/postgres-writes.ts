// The send path's writes to Postgres in one statement: new idempotency claims, kept answers and new
// message rows, whichever are waiting, go out together. A keyed send writes a claim before it sends
// and its message row after the ack; while one statement is in flight the next collects both kinds
// (group commit), so under load the claim of one request and the row of another share a statement
// instead of costing one each. Answers, which no request waits on, ride with the next statement or
// go out after ANSWER_GATHER_MS. While two or more sends are under way, each statement waits LINGER_MS
// before it goes out, so their claims and rows join it: at a few hundred sends a second a statement
// rarely finds more than one item waiting otherwise, and each commit costs the database more CPU than
// the wait costs the request.
import type { Sql } from '../db/index.js'
import { systemClock, type Clock } from '../lib/clock.js'
import { createGatherer } from '../lib/gather.js'
import { createGroupCommit, firstOfEach } from '../lib/group-commit.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type KeyClaim } from './idempotency/types.js'
import type { StatusCode } from './store/types.js'

/** How long answers gather before they are written together. */
export const ANSWER_GATHER_MS = 50
/** How long a statement waits for other sends' claims and rows while two or more sends are under way. */
export const LINGER_MS = 3

/** The answer kept for a key (its body sealed), with the claim it answers (the row, should it be gone). */
export interface AnswerRow extends KeyClaim {
  status: number
  body: string
}

/** A new message row (its payload sealed); an existing row is left alone. */
export interface MessageRow {
  clientId: string
  id: string
  fromMe: boolean
  payload: string
  status: StatusCode
  reason: string | null
  /** ISO time of the status. */
  at: string
}

type Item = { kind: 'claim'; row: KeyClaim } | { kind: 'message'; row: MessageRow } | { kind: 'answers'; rows: AnswerRow[] }

/** The items of a statement that changed a row: claims taken, message rows created. */
type Written = Set<KeyClaim | MessageRow>

export interface SendWrites {
  /** Inserts a new claim (or takes over a key past its 24 h); false when the key is claimed or answered. */
  claim(row: KeyClaim): Promise<boolean>
  /** Creates the message's row; false when it exists. */
  insertMessage(row: MessageRow): Promise<boolean>
  /** Keeps an answer: settles once written (it waits up to ANSWER_GATHER_MS for a statement to ride). */
  answer(row: AnswerRow): Promise<void>
  /**
   * Ends the watch on a claim this process took: true when a statement here created the row of the
   * message sent under its id (it is in the database, not only in a local fallback).
   */
  settle(claim: KeyClaim): boolean
}

/** Claims watched at most (a claim whose request never settled it, e.g. after a timeout, is dropped oldest first). */
const WATCHED_CLAIMS = 10_000

const rowKey = (clientId: string, id: string) => `${clientId}\u0000${id}`

export interface SendWritesOptions {
  sql: Sql
  clock?: Clock
  /** How many sends are under way in this process (their claims and rows are still to come); none by default. */
  sendsUnderWay?: () => number
}

export function createSendWrites({ sql, clock = systemClock, sendsUnderWay = () => 0 }: SendWritesOptions): SendWrites {
  const lock = `${IDEMPOTENCY_LOCK_MS} milliseconds`
  const ttl = `${IDEMPOTENCY_TTL_MS} milliseconds`

  /** One statement; returns the claimed scopes and the created message rows' keys. */
  async function write(answers: AnswerRow[], claims: KeyClaim[], messages: MessageRow[]): Promise<{ scopes: Set<string>; rows: Set<string> }> {
    const params: unknown[] = []
    const p = (value: unknown, type: string) => `$${params.push(value)}::${type}`
    const col = <T, V>(rows: T[], f: (r: T) => V, type: string) => p(rows.map(f), type)
    const ctes: string[] = []
    const results: string[] = []
    if (answers.length > 0) {
      // An upsert, not an UPDATE joined to the list: its conflict check always goes through the key's
      // index, where a join's plan, cached while the table was small, can scan the whole table.
      ctes.push(`done AS (
        INSERT INTO whatsapp_idempotency_keys AS k (scope, client_id, fingerprint, message_id, state, response_status, response_body, locked_until, created_at, expires_at)
        SELECT s, c, f, m, 'done', st, b, now(), now(), now() + ${p(ttl, 'interval')}
          FROM unnest(${col(answers, (a) => a.scope, 'text[]')}, ${col(answers, (a) => a.clientId, 'text[]')}, ${col(answers, (a) => a.fingerprint, 'text[]')},
                      ${col(answers, (a) => a.messageId, 'text[]')}, ${col(answers, (a) => a.status, 'int[]')}, ${col(answers, (a) => a.body, 'text[]')}) AS a(s, c, f, m, st, b)
        ON CONFLICT (scope) DO UPDATE SET state = 'done', response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body)`)
    }
    if (claims.length > 0) {
      ctes.push(`claimed AS (
        INSERT INTO whatsapp_idempotency_keys AS k (scope, client_id, fingerprint, message_id, state, locked_until, created_at, expires_at)
        SELECT s, c, f, m, 'in_flight', now() + ${p(lock, 'interval')}, now(), now() + ${p(ttl, 'interval')}
          FROM unnest(${col(claims, (c) => c.scope, 'text[]')}, ${col(claims, (c) => c.clientId, 'text[]')},
                      ${col(claims, (c) => c.fingerprint, 'text[]')}, ${col(claims, (c) => c.messageId, 'text[]')}) AS u(s, c, f, m)
        ON CONFLICT (scope) DO UPDATE SET
          fingerprint = EXCLUDED.fingerprint, message_id = EXCLUDED.message_id, state = 'in_flight',
          response_status = NULL, response_body = NULL, locked_until = EXCLUDED.locked_until,
          created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE k.expires_at < now()
        RETURNING k.scope)`)
      results.push(`SELECT 'c'::text AS k, scope AS a, NULL::text AS b FROM claimed`)
    }
    if (messages.length > 0) {
      const timeAt = (min: number) => col(messages, (m) => (m.status >= min ? m.at : null), 'timestamptz[]')
      ctes.push(`saved AS (
        INSERT INTO whatsapp_messages (client_id, message_id, from_me, payload, status, status_reason,
                                       sent_at, delivered_at, read_at, played_at, failed_at)
        SELECT c, m, f <> 0, p, s, r, t2, t3, t4, t5, t0
          FROM unnest(${col(messages, (m) => m.clientId, 'text[]')}, ${col(messages, (m) => m.id, 'text[]')}, ${col(messages, (m) => (m.fromMe ? 1 : 0), 'smallint[]')},
                      ${col(messages, (m) => m.payload, 'text[]')}, ${col(messages, (m) => m.status, 'smallint[]')},
                      ${col(messages, (m) => (m.status === 0 ? m.reason : null), 'text[]')},
                      ${timeAt(2)}, ${timeAt(3)}, ${timeAt(4)}, ${timeAt(5)},
                      ${col(messages, (m) => (m.status === 0 ? m.at : null), 'timestamptz[]')}) AS u(c, m, f, p, s, r, t2, t3, t4, t5, t0)
        ON CONFLICT (client_id, message_id) DO NOTHING
        RETURNING client_id, message_id)`)
      results.push(`SELECT 'm'::text AS k, client_id AS a, message_id AS b FROM saved`)
    }
    const text = `WITH ${ctes.join(',\n')}\n${results.length > 0 ? results.join('\nUNION ALL\n') : 'SELECT NULL::text AS k, NULL::text AS a, NULL::text AS b WHERE false'}`
    const found = await sql.unsafe<Array<{ k: string; a: string; b: string | null }>>(text, params as never[], { prepare: true })
    const scopes = new Set<string>()
    const rows = new Set<string>()
    for (const r of found) {
      if (r.k === 'c') scopes.add(r.a)
      else rows.add(rowKey(r.a, r.b ?? ''))
    }
    return { scopes, rows }
  }

  // Answers going out on their own (none rode with a statement within ANSWER_GATHER_MS) still queue
  // behind the statement in flight, as one item.
  const answers = createGatherer<AnswerRow>({ ms: ANSWER_GATHER_MS, clock, write: async (rows) => void (await statements.submit({ kind: 'answers', rows })) })

  const statements = createGroupCommit<Item, Written>(async (items) => {
    const riding = answers.take()
    const answered = [...riding.items, ...items.flatMap((i) => (i.kind === 'answers' ? i.rows : []))]
    // The last answer of each key; one row per key in a statement (ON CONFLICT cannot touch a row twice).
    const lastAnswers = [...new Map(answered.map((a) => [a.scope, a])).values()]
    const done = new Set(lastAnswers.map((a) => a.scope))
    // A repeat claim (or a claim of a key answered in this statement) finds the key claimed.
    const claims = firstOfEach(items.flatMap((i) => (i.kind === 'claim' ? [i.row] : [])), (c) => c.scope).filter((c) => !done.has(c.scope))
    // A repeat of a message row in the statement is not inserted: its caller finds the row there.
    const messages = firstOfEach(items.flatMap((i) => (i.kind === 'message' ? [i.row] : [])), (m) => rowKey(m.clientId, m.id))
    let result: { scopes: Set<string>; rows: Set<string> }
    try {
      result = await write(lastAnswers, claims, messages)
    } catch (err) {
      riding.settle({ err })
      throw err
    }
    riding.settle(null)
    return new Set<KeyClaim | MessageRow>([...claims.filter((c) => result.scopes.has(c.scope)), ...messages.filter((m) => result.rows.has(rowKey(m.clientId, m.id)))])
  }, { linger: () => (sendsUnderWay() >= 2 ? new Promise<void>((resolve) => clock.setTimeout(resolve, LINGER_MS)) : null) })

  // Claims taken here and not yet settled, by their message's row key: whether that row was created here.
  const watched = new Map<string, boolean>()

  return {
    async claim(row) {
      const taken = (await statements.submit({ kind: 'claim', row })).has(row)
      if (taken) {
        watched.set(rowKey(row.clientId, row.messageId), false)
        if (watched.size > WATCHED_CLAIMS) watched.delete(watched.keys().next().value as string)
      }
      return taken
    },
    async insertMessage(row) {
      const created = (await statements.submit({ kind: 'message', row })).has(row)
      const key = rowKey(row.clientId, row.id)
      if (created && watched.has(key)) watched.set(key, true)
      return created
    },
    answer: (row) => answers.add(row),
    settle(claim) {
      const key = rowKey(claim.clientId, claim.messageId)
      const created = watched.get(key) === true
      watched.delete(key)
      return created
    },
  }
}
