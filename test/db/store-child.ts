// Child process: opens a stored session and prints its creds and keys as canonical text (one JSON line).
import { rm } from 'node:fs/promises'
import { BufferJSON } from '@whiskeysockets/baileys'
import { createSessionStore } from '../../src/keystore/index.js'
import { countKeys } from '../../src/keystore/memory.js'

const [databaseUrl, sessionPath, clientId, types, removeMirror] = process.argv.slice(2)
if (removeMirror === 'rm-mirror') await rm(sessionPath, { recursive: true, force: true })
const store = await createSessionStore({ sessionPath, databaseUrl: databaseUrl || undefined })
const h = await store.open(clientId)
const keys: Record<string, unknown> = {}
const counts = await h.keyCounts()
for (const type of types.split(',')) {
  // Every id of the type: keyCounts says how many; the dump asks for them by name below.
  keys[type] = counts[type] ?? 0
}
const handle = h as unknown as { snapshot(): { keys: Map<string, Map<string, unknown>> } }
const all: Record<string, Record<string, unknown>> = {}
for (const [type, ids] of handle.snapshot().keys) all[type] = Object.fromEntries(ids)
process.stdout.write(JSON.stringify({ me: h.state.creds.me ?? null, counts: countKeys(handle.snapshot().keys), keys: JSON.stringify(all, BufferJSON.replacer), health: h.health() }) + '\n')
await store.close()
