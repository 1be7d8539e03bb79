// Child process: opens a stored session and prints its creds and the keys it is asked for as canonical
// text (one JSON line). argv: databaseUrl sessionPath clientId {"type":["id",...]} [rm-mirror]
import { rm } from 'node:fs/promises'
import { BufferJSON, type SignalDataTypeMap } from '@whiskeysockets/baileys'
import { createSessionStore } from '../../src/keystore/index.js'

const [databaseUrl, sessionPath, clientId, idsByType, removeMirror] = process.argv.slice(2)
if (removeMirror === 'rm-mirror') await rm(sessionPath, { recursive: true, force: true })
const store = await createSessionStore({ sessionPath, databaseUrl: databaseUrl || undefined })
const h = await store.open(clientId)
const all: Record<string, Record<string, unknown>> = {}
for (const [type, ids] of Object.entries(JSON.parse(idsByType) as Record<string, string[]>)) {
  all[type] = await h.state.keys.get(type as keyof SignalDataTypeMap, ids)
}
process.stdout.write(JSON.stringify({ me: h.state.creds.me ?? null, counts: await h.keyCounts(), keys: JSON.stringify(all, BufferJSON.replacer), health: h.health() }) + '\n')
await store.close()
