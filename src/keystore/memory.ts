// Pure helpers over the in-memory session: applying Baileys' key changes, answering keys.get (decoding
// Encoded values on first read), counting keys, and merging queued writes into one (group commit).
import { Encoded, type Dirty, type KeyMap } from './state.js'

/** Sets (or, for null, deletes) one key in memory. False when nothing changed: a delete of an absent key. */
export function setKey(keys: KeyMap, type: string, id: string, value: unknown): boolean {
  let live = keys.get(type)
  if (value === null || value === undefined) {
    if (!live?.delete(id)) return false
    if (live.size === 0) keys.delete(type)
    return true
  }
  if (!live) keys.set(type, (live = new Map()))
  live.set(id, value)
  return true
}

/** Types read about once each (a pre-key is read when a contact starts a session, then deleted): decoded per read, never cached. */
const UNCACHED = new Set(['pre-key'])

/**
 * The values stored under `storedIds`, keyed by the ids Baileys asked for (same order). Encoded values
 * are decoded here; the decoded value replaces the text in memory unless its type is read once.
 */
export function pickKeys(
  keys: KeyMap,
  type: string,
  ids: readonly string[],
  storedIds: readonly string[],
  decode: (type: string, text: string) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const live = keys.get(type)
  if (!live) return out
  for (let i = 0; i < ids.length; i++) {
    let value = live.get(storedIds[i])
    if (value === undefined) continue
    if (value instanceof Encoded) {
      value = decode(type, value.text)
      if (!UNCACHED.has(type)) live.set(storedIds[i], value)
    }
    out[ids[i]] = value
  }
  return out
}

export function countKeys(keys: KeyMap): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [type, ids] of keys) if (ids.size > 0) out[type] = ids.size
  return out
}

/** Whether a write names nothing to persist. */
export const isEmptyDirty = (d: Dirty): boolean => !d.creds && !d.status && !d.jid && (d.keys === undefined || Object.keys(d.keys).length === 0)

/** Everything any of these writes touched (values are read from the state at commit). */
export function mergeDirty(all: readonly (Dirty | null)[]): Dirty {
  if (all.length === 2 && all[0] === null && all[1]) return all[1] // one write, nothing carried: the common case
  const merged: Dirty = {}
  const keys = new Map<string, Set<string>>()
  for (const d of all) {
    if (!d) continue
    if (d.creds) merged.creds = true
    if (d.status) merged.status = true
    if (d.jid) merged.jid = true
    for (const [type, ids] of Object.entries(d.keys ?? {})) {
      let set = keys.get(type)
      if (!set) keys.set(type, (set = new Set()))
      for (const id of ids) set.add(id)
    }
  }
  if (keys.size > 0) merged.keys = Object.fromEntries([...keys].map(([type, ids]) => [type, [...ids]]))
  return merged
}
