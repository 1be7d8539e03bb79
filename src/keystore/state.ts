// The in-memory shape of one open session, shared by its handle (which answers Baileys and changes it)
// and its mode's sink (which persists the changes and reads it whole for a catch-up).
import type { AuthenticationCreds } from '@whiskeysockets/baileys'
import type { SessionStatus } from './types.js'

/**
 * Which copy of a session is newer. Compared lexicographically: epoch first (the lease fencing token
 * under which the state was written; 0 without a lease), then seq (incremented by every write).
 * A state written under an older lease never wins against a newer lease, whatever its seq.
 */
export interface SessionVersion {
  epoch: number
  seq: number
}

export function compareVersions(a: SessionVersion, b: SessionVersion): number {
  return a.epoch !== b.epoch ? Math.sign(a.epoch - b.epoch) : Math.sign(a.seq - b.seq)
}

/**
 * A stored value kept as the codec's text until Baileys reads it. Values loaded from storage stay in
 * this form (most are never read in a session's lifetime: the 812 pre-keys), and pre-keys are kept
 * in it when Baileys writes them.
 */
export class Encoded {
  constructor(readonly text: string) {}
}

/** type -> stored id -> live value (as keys.get returns it) or Encoded. Stored ids: see Codec.keyId. */
export type KeyMap = Map<string, Map<string, unknown>>

export interface SessionState {
  clientId: string
  /** Mutated in place by Baileys; persisted by saveCreds. */
  creds: AuthenticationCreds
  keys: KeyMap
  /** The version of the last write handed to the sink (assigned by the sink at commit). */
  version: SessionVersion
  status: SessionStatus
  jid: string | null
  createdAt: string
  updatedAt: string
  /** false for a new session until its first write, which then carries the creds. */
  stored: boolean
}

/**
 * What one write touched. Its values are read from the state when the write is committed, so writes
 * merged into one commit (or carried after a failure) always store the newest value of each key.
 */
export interface Dirty {
  /** type -> stored ids set or deleted. */
  keys?: Record<string, readonly string[]>
  creds?: boolean
  status?: boolean
  jid?: boolean
}

export function freshState(clientId: string, version: SessionVersion, creds: AuthenticationCreds, now: string): SessionState {
  return { clientId, creds, keys: new Map(), version, status: 'inactive', jid: null, createdAt: now, updatedAt: now, stored: false }
}
