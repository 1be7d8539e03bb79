// The on-disk text of a session: a readable JSON snapshot and an append-only journal of JSON lines.
// Values stay encoded (codec.ts) here; decoding happens only when a mode opens a session.
//
// Snapshot `{clientId}.json`: a header (format, clientId, status, jid, version, timestamps, journalId,
// encryption key-check, keyIds, database), then "creds" and "keys": { type: { id: value } }, one key
// per line. Without encryption a value is its BufferJSON embedded as JSON; with it, the `enc:v1:`
// string, and ids are keyed hashes (keyIds "hmac-sha256/v1"). `database` names the database that
// already holds this session (Postgres mode's mirror), or is null.
//
// Journal `{clientId}.journal`: line 1 `{"journal":1,"clientId":..,"journalId":..}` naming the snapshot
// it extends; then one line per write batch `{"v":{epoch,seq},"t":iso,"c":creds?,"s":status?,"j":jid?,
// "d":database?,"k":{type:{id:value|null}}}`. A journal whose journalId differs from the snapshot's was
// already folded into it (a compaction stopped between its two renames) and is ignored; a journal
// whose first line is not a journal header, or an empty one, is damage.
import type { KeyIdScheme } from '../codec.js'
import type { EncodedBatch, EncodedSession } from '../encoded.js'
import type { SessionVersion } from '../state.js'
import type { SessionStatus } from '../types.js'

export const FORMAT = 'whatsapp-backend/session'
export const FORMAT_VERSION = 1

/** What a session's files hold: the encoded session plus the mirror's database marker. */
export interface FileState extends EncodedSession {
  database: string | null
}

/** A journal line: a write batch, or only a new database marker (at the current version). */
export interface JournalEntry extends EncodedBatch {
  database?: string | null
}

export interface SnapshotHeader {
  journalId: string
  keyCheck: string | null
}

/** The snapshot or a journal line is not what this code writes: the caller quarantines it. */
export class FormatError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'FormatError'
  }
}

const STATUSES: readonly string[] = ['active', 'inactive', 'logged_out']

export function emptyState(clientId: string, now: string, keyIds: KeyIdScheme): FileState {
  return { clientId, status: 'inactive', jid: null, version: { epoch: 0, seq: 0 }, createdAt: now, updatedAt: now, creds: null, keys: new Map(), keyIds, database: null }
}

const KEY_ID_SCHEMES: readonly string[] = ['clear', 'hmac-sha256/v1']

/** Encrypted text goes in as a JSON string; plain BufferJSON text goes in as-is (it is JSON). */
const embed = (text: string, encrypted: boolean): string => (encrypted ? JSON.stringify(text) : text)

function unembed(raw: unknown, encrypted: boolean): string {
  if (encrypted) {
    if (typeof raw !== 'string') throw new FormatError('an encrypted value is not a string')
    return raw
  }
  return JSON.stringify(raw)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkVersion(v: unknown): SessionVersion {
  if (!isObject(v) || !Number.isSafeInteger(v.epoch) || !Number.isSafeInteger(v.seq)) throw new FormatError('bad version')
  return { epoch: v.epoch as number, seq: v.seq as number }
}

export function serializeSnapshot(state: FileState, header: SnapshotHeader): string {
  const encrypted = header.keyCheck !== null
  const head = JSON.stringify({
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    clientId: state.clientId,
    status: state.status,
    jid: state.jid,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    journalId: header.journalId,
    encryption: encrypted ? { algorithm: 'aes-256-gcm', keyCheck: header.keyCheck } : null,
    keyIds: state.keyIds,
    database: state.database,
  })
  const out: string[] = [head.slice(0, -1), `,\n"creds":${state.creds === null ? 'null' : embed(state.creds, encrypted)},\n"keys":{`]
  let firstType = true
  for (const [type, ids] of state.keys) {
    if (ids.size === 0) continue
    const rows: string[] = []
    for (const [id, text] of ids) rows.push(`${JSON.stringify(id)}:${embed(text, encrypted)}`)
    out.push(`${firstType ? '' : ','}\n${JSON.stringify(type)}:{\n${rows.join(',\n')}\n}`)
    firstType = false
  }
  out.push('\n}}\n')
  return out.join('')
}

export function parseSnapshot(text: string, clientId: string): { state: FileState; header: SnapshotHeader } {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new FormatError('snapshot is not valid JSON')
  }
  if (!isObject(doc) || doc.format !== FORMAT) throw new FormatError('not a session snapshot')
  if (doc.formatVersion !== FORMAT_VERSION) throw new FormatError(`unsupported formatVersion ${String(doc.formatVersion)}`)
  if (doc.clientId !== clientId) throw new FormatError('snapshot belongs to another client id')
  if (typeof doc.status !== 'string' || !STATUSES.includes(doc.status)) throw new FormatError('bad status')
  if (doc.jid !== null && typeof doc.jid !== 'string') throw new FormatError('bad jid')
  if (typeof doc.createdAt !== 'string' || typeof doc.updatedAt !== 'string') throw new FormatError('bad timestamps')
  if (typeof doc.journalId !== 'string') throw new FormatError('bad journalId')
  let keyCheck: string | null = null
  if (doc.encryption !== null) {
    if (!isObject(doc.encryption) || typeof doc.encryption.keyCheck !== 'string') throw new FormatError('bad encryption marker')
    keyCheck = doc.encryption.keyCheck
  }
  const encrypted = keyCheck !== null
  const keyIds = doc.keyIds ?? 'clear'
  if (typeof keyIds !== 'string' || !KEY_ID_SCHEMES.includes(keyIds)) throw new FormatError('bad keyIds')
  const database = doc.database ?? null
  if (database !== null && typeof database !== 'string') throw new FormatError('bad database marker')
  if (!isObject(doc.keys)) throw new FormatError('bad keys')
  const keys = new Map<string, Map<string, string>>()
  for (const [type, ids] of Object.entries(doc.keys)) {
    if (!isObject(ids)) throw new FormatError('bad key type map')
    const map = new Map<string, string>()
    for (const [id, raw] of Object.entries(ids)) map.set(id, unembed(raw, encrypted))
    keys.set(type, map)
  }
  const state: FileState = {
    clientId,
    status: doc.status as SessionStatus,
    jid: doc.jid as string | null,
    version: checkVersion(doc.version),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    creds: doc.creds === null || doc.creds === undefined ? null : unembed(doc.creds, encrypted),
    keys,
    keyIds: keyIds as KeyIdScheme,
    database,
  }
  return { state, header: { journalId: doc.journalId, keyCheck } }
}

export function journalHeaderLine(clientId: string, journalId: string): string {
  return JSON.stringify({ journal: 1, clientId, journalId }) + '\n'
}

export function serializeBatch(batch: JournalEntry, encrypted: boolean): string {
  const parts = [`{"v":{"epoch":${batch.version.epoch},"seq":${batch.version.seq}},"t":"${batch.at}"`]
  if (batch.creds !== undefined) parts.push(`,"c":${embed(batch.creds, encrypted)}`)
  if (batch.status !== undefined) parts.push(`,"s":${JSON.stringify(batch.status)}`)
  if (batch.jid !== undefined) parts.push(`,"j":${JSON.stringify(batch.jid)}`)
  if (batch.database !== undefined) parts.push(`,"d":${JSON.stringify(batch.database)}`)
  if (batch.keys && batch.keys.length > 0) {
    const byType = new Map<string, string[]>()
    for (const [type, id, value] of batch.keys) {
      let rows = byType.get(type)
      if (!rows) byType.set(type, (rows = []))
      rows.push(`${JSON.stringify(id)}:${value === null ? 'null' : embed(value, encrypted)}`)
    }
    parts.push(`,"k":{${[...byType].map(([type, rows]) => `${JSON.stringify(type)}:{${rows.join(',')}}`).join(',')}}`)
  }
  parts.push('}\n')
  return parts.join('')
}

function parseBatch(line: string, encrypted: boolean): JournalEntry {
  const doc: unknown = JSON.parse(line) // a SyntaxError here is handled by the caller
  if (!isObject(doc) || typeof doc.t !== 'string') throw new FormatError('bad journal entry')
  const batch: JournalEntry = { version: checkVersion(doc.v), at: doc.t }
  if (doc.d !== undefined) {
    if (doc.d !== null && typeof doc.d !== 'string') throw new FormatError('bad database marker in journal')
    batch.database = doc.d
  }
  if (doc.c !== undefined) batch.creds = unembed(doc.c, encrypted)
  if (doc.s !== undefined) {
    if (typeof doc.s !== 'string' || !STATUSES.includes(doc.s)) throw new FormatError('bad status in journal')
    batch.status = doc.s as SessionStatus
  }
  if (doc.j !== undefined) {
    if (doc.j !== null && typeof doc.j !== 'string') throw new FormatError('bad jid in journal')
    batch.jid = doc.j
  }
  if (doc.k !== undefined) {
    if (!isObject(doc.k)) throw new FormatError('bad keys in journal')
    batch.keys = []
    for (const [type, ids] of Object.entries(doc.k)) {
      if (!isObject(ids)) throw new FormatError('bad keys in journal')
      for (const [id, raw] of Object.entries(ids)) batch.keys.push([type, id, raw === null ? null : unembed(raw, encrypted)])
    }
  }
  return batch
}

export type JournalParse =
  | { kind: 'stale' } // names an older snapshot: already folded into this one
  | { kind: 'corrupt'; line: number } // line 0: the file is empty
  | { kind: 'ok'; batches: JournalEntry[]; validBytes: number; tornBytes: number }

/**
 * Only newline-terminated lines count: a kill during an append leaves at most one unterminated (or
 * unparseable) tail, which was never acknowledged. An unreadable line followed by readable ones is
 * corruption, and so is a first line that is not a journal header (it is written atomically with its
 * snapshot, never torn) or an empty file (a journal always has its header).
 */
export function parseJournal(buf: Buffer, journalId: string, clientId: string, encrypted: boolean): JournalParse {
  let start = 0
  let lineNo = 0
  const batches: JournalEntry[] = []
  let validBytes = 0
  let bad: number | null = null
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start)
    if (nl === -1) break // unterminated tail
    const line = buf.toString('utf8', start, nl)
    lineNo++
    let ok = true
    if (lineNo === 1) {
      const head = journalHeader(line)
      if (!head || head.clientId !== clientId) return { kind: 'corrupt', line: 1 }
      if (head.journalId !== journalId) return { kind: 'stale' }
    } else {
      try {
        batches.push(parseBatch(line, encrypted))
      } catch (err) {
        if (!(err instanceof SyntaxError || err instanceof FormatError)) throw err
        ok = false
      }
    }
    if (!ok) {
      if (bad === null) bad = lineNo
    } else if (bad !== null) {
      return { kind: 'corrupt', line: bad }
    } else {
      validBytes = nl + 1
    }
    start = nl + 1
  }
  if (lineNo === 0) return { kind: 'corrupt', line: buf.length === 0 ? 0 : 1 }
  return { kind: 'ok', batches, validBytes, tornBytes: buf.length - validBytes }
}

function journalHeader(line: string): { clientId: unknown; journalId: unknown } | null {
  try {
    const head: unknown = JSON.parse(line)
    return isObject(head) && head.journal === 1 && typeof head.journalId === 'string' ? { clientId: head.clientId, journalId: head.journalId } : null
  } catch {
    return null
  }
}

export function applyBatch(state: FileState, batch: JournalEntry): void {
  state.version = batch.version
  state.updatedAt = batch.at
  if (batch.database !== undefined) state.database = batch.database
  if (batch.creds !== undefined) state.creds = batch.creds
  if (batch.status !== undefined) state.status = batch.status
  if (batch.jid !== undefined) state.jid = batch.jid
  for (const [type, id, value] of batch.keys ?? []) {
    let ids = state.keys.get(type)
    if (value === null) {
      ids?.delete(id)
      continue
    }
    if (!ids) state.keys.set(type, (ids = new Map()))
    ids.set(id, value)
  }
}
