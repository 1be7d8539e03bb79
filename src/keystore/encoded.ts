// The stored form of a session, the same for both backends: every value is the codec's text, every key
// id the stored id. Conversions between it and the live SessionState, and the encoding of one write.
import type { Codec, KeyIdScheme } from './codec.js'
import { Encoded, type Dirty, type KeyMap, type SessionState, type SessionVersion } from './state.js'
import type { SessionStatus } from './types.js'

export interface EncodedSession {
  clientId: string
  status: SessionStatus
  jid: string | null
  version: SessionVersion
  createdAt: string
  updatedAt: string
  /** Encoded creds, or null for a file that has keys but no creds yet. */
  creds: string | null
  /** type -> stored id -> encoded value. */
  keys: Map<string, Map<string, string>>
  keyIds: KeyIdScheme
}

/** One write, values encoded: a journal line, or the rows of one statement. null deletes. */
export interface EncodedBatch {
  version: SessionVersion
  at: string
  creds?: string
  status?: SessionStatus
  jid?: string | null
  keys?: Array<[type: string, id: string, value: string | null]>
}

/** The write of what `dirty` names, values as the state holds them now (absent key = delete). */
export function encodeDirty(codec: Codec, state: SessionState, dirty: Dirty, version: SessionVersion, at: string): EncodedBatch {
  const batch: EncodedBatch = { version: { epoch: version.epoch, seq: version.seq }, at }
  if (dirty.creds) batch.creds = codec.encodeCreds(state.creds)
  if (dirty.status) batch.status = state.status
  if (dirty.jid) batch.jid = state.jid
  if (dirty.keys) {
    const rows: NonNullable<EncodedBatch['keys']> = []
    for (const type in dirty.keys) {
      const ids = dirty.keys[type]
      const live = state.keys.get(type)
      for (const id of ids) {
        const value = live?.get(id)
        rows.push([type, id, value == null ? null : codec.encode(type, value)])
      }
    }
    batch.keys = rows
  }
  return batch
}

/** The whole live state, encoded (a catch-up, a copy to the other backend). Encoded values pass through. */
export function encodeState(codec: Codec, state: SessionState): EncodedSession {
  const keys = new Map<string, Map<string, string>>()
  for (const [type, ids] of state.keys) {
    const out = new Map<string, string>()
    for (const [id, value] of ids) if (value != null) out.set(id, codec.encode(type, value))
    if (out.size > 0) keys.set(type, out)
  }
  return {
    clientId: state.clientId,
    status: state.status,
    jid: state.jid,
    version: { ...state.version },
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    creds: codec.encodeCreds(state.creds),
    keys,
    keyIds: codec.keyIds,
  }
}

/**
 * The live state of a stored session whose key check already passed. Every value is decoded once here
 * (a damaged one throws CORRUPT_VALUE, naming its type) but kept as its text: Baileys' first read
 * decodes it again. Creds are decoded for good: Baileys holds them from the start.
 */
export function decodeState(codec: Codec, enc: EncodedSession & { creds: string }): SessionState {
  const creds = codec.decodeCreds(enc.creds, enc.clientId, true)
  const keys: KeyMap = new Map()
  for (const [type, ids] of enc.keys) {
    const live = new Map<string, unknown>()
    for (const [id, text] of ids) {
      codec.decode(type, text, enc.clientId, true)
      live.set(id, new Encoded(text))
    }
    if (live.size > 0) keys.set(type, live)
  }
  return {
    clientId: enc.clientId,
    creds,
    keys,
    version: { ...enc.version },
    status: enc.status,
    jid: enc.jid,
    createdAt: enc.createdAt,
    updatedAt: enc.updatedAt,
    stored: true,
  }
}

/** The same session with its key ids stored as this codec stores them (hashed once encryption is on). */
export function withCodecKeyIds(codec: Codec, enc: EncodedSession): EncodedSession {
  if (enc.keyIds === codec.keyIds) return enc
  if (enc.keyIds !== 'clear') throw new Error(`cannot convert key ids from ${enc.keyIds} to ${codec.keyIds}`)
  const keys = new Map<string, Map<string, string>>()
  for (const [type, ids] of enc.keys) keys.set(type, new Map([...ids].map(([id, text]) => [codec.keyId(type, id), text])))
  return { ...enc, keys, keyIds: codec.keyIds }
}
