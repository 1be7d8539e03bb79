// Pure helpers over the in-memory session (a KeyMap) and over write batches: applying Baileys' key
// changes, answering keys.get, and merging queued batches into one (group commit).
import type { SignalDataSet } from '@whiskeysockets/baileys'
import type { KeyMap, SessionVersion, WriteBatch } from './backend.js'

/** type -> id -> value, null = delete: SignalDataSet without the closed list of types. */
export type KeyChanges = Record<string, Record<string, unknown> | undefined>

export function compareVersions(a: SessionVersion, b: SessionVersion): number {
  return a.epoch !== b.epoch ? Math.sign(a.epoch - b.epoch) : Math.sign(a.seq - b.seq)
}

export function applyKeyChanges(keys: KeyMap, changes: KeyChanges): void {
  for (const [type, ids] of Object.entries(changes)) {
    if (!ids) continue
    let live = keys.get(type)
    for (const [id, value] of Object.entries(ids)) {
      if (value === null || value === undefined) {
        live?.delete(id)
      } else {
        if (!live) keys.set(type, (live = new Map()))
        live.set(id, value)
      }
    }
    if (live && live.size === 0) keys.delete(type)
  }
}

/** Only the ids present, as keys.get must answer. */
export function pickKeys(keys: KeyMap, type: string, ids: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const live = keys.get(type)
  if (!live) return out
  for (const id of ids) {
    const value = live.get(id)
    if (value !== undefined) out[id] = value
  }
  return out
}

export function countKeys(keys: KeyMap): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [type, ids] of keys) if (ids.size > 0) out[type] = ids.size
  return out
}

/** A shallow copy of the key map (values shared: they are replaced, never mutated, by the store). */
export function copyKeys(keys: KeyMap): KeyMap {
  const out: KeyMap = new Map()
  for (const [type, ids] of keys) out.set(type, new Map(ids))
  return out
}

/** Later batches win per (type, id) and per field; the merged batch carries the newest version. */
export function mergeBatches(batches: readonly WriteBatch[]): WriteBatch {
  if (batches.length === 1) return batches[0]
  const keys: Record<string, Record<string, unknown>> = {}
  let merged: WriteBatch = { version: batches[0].version }
  let anyKeys = false
  for (const b of batches) {
    if (b.creds !== undefined) merged.creds = b.creds
    if (b.status !== undefined) merged.status = b.status
    if (b.jid !== undefined) merged.jid = b.jid
    if (compareVersions(b.version, merged.version) > 0) merged = { ...merged, version: b.version }
    for (const [type, ids] of Object.entries((b.keys ?? {}) as KeyChanges)) {
      if (!ids) continue
      anyKeys = true
      Object.assign((keys[type] ??= {}), ids)
    }
  }
  if (anyKeys) merged.keys = keys as SignalDataSet
  return merged
}

/** Flattened changes: the rows a backend upserts and the (type, id) pairs it deletes. */
export function splitChanges(changes: KeyChanges | undefined): {
  upserts: Array<[type: string, id: string, value: unknown]>
  deletes: Array<[type: string, id: string]>
} {
  const upserts: Array<[string, string, unknown]> = []
  const deletes: Array<[string, string]> = []
  for (const [type, ids] of Object.entries(changes ?? {})) {
    for (const [id, value] of Object.entries(ids ?? {})) {
      if (value === null || value === undefined) deletes.push([type, id])
      else upserts.push([type, id, value])
    }
  }
  return { upserts, deletes }
}
