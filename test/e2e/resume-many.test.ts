// End to end: a server restarted with 30 stored sessions (Postgres mode, lease on) listens before it
// has resumed them, reports the progress on /ready, brings every readable session back without a QR,
// names the one whose stored state is corrupt and skips it, and on SIGTERM releases every lease.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { spawnServer } from './child-server.js'
import { CLIENT_ID, getJson, migratedDatabase, mirrorFile, poll, prepareProcess, startApp, startFake, tempDir, type App } from './harness.js'

const enforced = prepareProcess()
const N = 30
const ids = Array.from({ length: N }, (_, i) => `shop-${String(i).padStart(2, '0')}`)
const accountOf = (i: number) => ({ pn: `1555300${String(i).padStart(4, '0')}`, lid: `30000000${String(i).padStart(7, '0')}` })
const CORRUPT = ids[7] as string

/** Links every id through the API (POST /sessions, GET /qr, the fake phone scans), a few at a time. */
async function linkAll(app: App, fake: Awaited<ReturnType<typeof startFake>>): Promise<void> {
  const queue = ids.map((id, i) => ({ id, i }))
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { id, i } = next
      const created = await app.inject({ method: 'POST', url: '/api/whatsapp/sessions', payload: { clientId: id } })
      if (created.statusCode !== 201) throw new Error(`POST /sessions ${id}: ${created.statusCode} ${created.body}`)
      const qr = await poll(`a QR for ${id}`, async () => {
        const res = await getJson<{ qr?: string }>(app, `/api/whatsapp/qr?clientId=${id}`)
        return res.status === 200 && res.body.qr
      }, 30_000)
      await fake.scanQR(qr, accountOf(i))
      await poll(`${id} open`, async () => (await getJson<{ state: string }>(app, `/api/whatsapp/status?clientId=${id}`)).body.state === 'open', 30_000)
    }
  }
  await Promise.all(Array.from({ length: 5 }, worker))
}

t.test(`restart with ${N} stored sessions: listens first, resumes in the background, skips the corrupt one`, async (t) => {
  t.ok(enforced, 'signature verification enforced')
  const fake = await startFake(t)
  const db = await migratedDatabase(t)
  const sessionPath = await tempDir(t)

  const first = await startApp(t, { fake, sessionPath, databaseUrl: db.url })
  await linkAll(first.app, fake)
  await first.close()
  const handshakes = fake.handshakes()
  const [{ n: active }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_sessions WHERE status = 'active'`
  t.equal(active, N, `${N} linked sessions stored`)

  // One session's stored state is damaged in both copies (database and mirror file).
  await db.sql`UPDATE whatsapp_session_creds SET creds = '{"not": "a session"' WHERE client_id = ${CORRUPT}`
  await writeFile(mirrorFile(sessionPath, CORRUPT), '{ damaged')

  const server = await spawnServer(t, {
    name: 'restarted',
    env: { DATABASE_URL: db.url, SESSION_PATH: sessionPath, CLIENT_ID, WA_WS_URL: fake.url, RESUME_CONCURRENCY: '2' },
  })
  // spawnServer returns at the first /health answer: the resume is still under way.
  const early = (await server.get('/ready')).body
  t.equal(early.status, 'ready')
  t.not(early.resume.status, 'done', `listening before the resume finished (${early.resume.done} of ${early.resume.total} done)`)

  const ready = await poll('every session resumed', async () => {
    const body = (await server.get('/ready')).body
    return body.resume.status === 'done' && body.resume.total === N + 1 && body
  }, 120_000, 200)
  t.equal(ready.resume.done, N + 1, 'the default session and every stored one had their first attempt')
  t.match(ready.resume.failed, [{ clientId: CORRUPT, code: /^[A-Z_]+$/, reason: /\S/ }], 'the corrupt session is named')
  t.equal(ready.resume.failed.length, 1, 'and only it')

  const open = await poll('every readable session open', async () => {
    const body = (await server.get('/api/whatsapp/sessions')).body
    const states = new Map<string, string | null>(body.sessions.map((s: { clientId: string; state: string | null }) => [s.clientId, s.state]))
    return ids.every((id) => id === CORRUPT || states.get(id) === 'open') && body
  }, 60_000, 200)
  t.match(open.resume, { status: 'done', failed: [{ clientId: CORRUPT }] }, 'GET /sessions shows the progress too')
  const corrupt = open.sessions.find((s: { clientId: string }) => s.clientId === CORRUPT)
  t.match(corrupt, { running: false, state: null }, 'the corrupt session does not run')
  t.equal(fake.waitingForScan(), 1, 'no QR needed: only the never-linked default session shows one')
  t.ok(fake.handshakes() > handshakes, 'the sessions logged in again')

  const held = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_session_leases WHERE expires_at > now()`
  t.equal(held[0]?.n, N, `${N - 1} resumed sessions and the default one hold their lease`)
  server.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'SIGTERM: clean exit')
  const left = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM whatsapp_session_leases WHERE expires_at > now()`
  t.equal(left[0]?.n, 0, 'every lease released at shutdown')
})
