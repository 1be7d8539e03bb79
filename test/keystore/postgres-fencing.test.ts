// Keystore writes carry the lease's fencing token: a stale owner's write is rejected and never lands.
import t from 'tap'
import { createSessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

t.test('a write under a stale fencing token is rejected and does not overwrite', async (t) => {
  const { url, sql } = await migratedDatabase(t)
  const a = await tempFolder(t)
  const b = await tempFolder(t)
  await sql`INSERT INTO whatsapp_session_leases (client_id, owner, fencing_token, expires_at)
            VALUES ('alice', 'old', 5, now() + interval '1 minute')`
  const oldStore = await createSessionStore({ sessionPath: a.sessions, databaseUrl: url })
  t.teardown(() => oldStore.close())
  const old = await oldStore.open('alice', { fencingToken: 5 })
  await old.state.keys.set({ session: { s: Buffer.from('old-1') } })
  t.equal(old.health().epoch, 5, 'writes carry the token as epoch')

  // Takeover: the lease moves on to token 6.
  await sql`UPDATE whatsapp_session_leases SET owner = 'new', fencing_token = 6 WHERE client_id = 'alice'`
  await t.rejects(Promise.resolve(old.state.keys.set({ session: { s: Buffer.from('stale') } })), { code: 'STALE_FENCING_TOKEN' })
  await t.rejects(old.saveCreds(), { code: 'STALE_FENCING_TOKEN' }, 'every later write is refused too')
  t.equal(old.health().degraded, false, 'a stale token is not an outage')
  const [row] = await sql`SELECT value FROM whatsapp_session_keys WHERE client_id = 'alice' AND type = 'session' AND key_id = 's'`
  t.match(row.value, /old-1|b2xkLTE/, 'the stored value is the one written under the valid lease')
  t.notMatch(row.value, /stale|c3RhbGU/)

  const newStore = await createSessionStore({ sessionPath: b.sessions, databaseUrl: url })
  t.teardown(() => newStore.close())
  await t.rejects(newStore.open('alice', { fencingToken: 4 }), { code: 'STALE_FENCING_TOKEN' }, 'older than the stored epoch')
  const fresh = await newStore.open('alice', { fencingToken: 6 })
  await fresh.state.keys.set({ session: { s: Buffer.from('new-1') } })
  const [s] = await sql`SELECT version_epoch FROM whatsapp_session_versions WHERE client_id = 'alice'`
  t.equal(Number(s.version_epoch), 6)
})
