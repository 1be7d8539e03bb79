// node scripts/run.mjs bench-keystore-concurrent -- [--ops 2000] [--concurrency 8] [--rounds 2] [--delay-ms 5]
//
// The Baileys key workload of FAKE-WHATSAPP.md §7 with several conversations in flight at once (a busy
// account: sends from the API and inbound messages overlap; one message's calls stay sequential), run
// in one process against Baileys' useMultiFileAuthState (reference), our store in file mode, Postgres
// mode (ack on COMMIT), Postgres mode with acknowledge:'local', and both Postgres modes through a TCP
// proxy adding --delay-ms each way (Supabase seen from a Fly machine). scripts/bench-keystore.ts runs
// the same mix strictly one call after another.
//
//   pairing   1 set of 812 pre-keys, 4 saveCreds, 2 set lid-mapping (2 ids), 1 set device-list,
//             1 set session (2 ids): timed as one phase
//   stream    --ops operations, --concurrency in flight, each with a different contact:
//             60% send          get session x2, get tctoken x2, set session (2 ids)
//             30% inbound msg   get session, set session (1 id)
//             10% inbound pkmsg get lid-mapping x2, set lid-mapping (2 ids), get/set identity-key,
//                               get/set session, get pre-key, set pre-key {id: null}
//             session records 1.5 KB, tctokens 24 B, identity keys 33 B
// Our stores acknowledge a set only once it is durable (fdatasync in file mode; COMMIT, or mirror
// fdatasync with 'local'); useMultiFileAuthState never fsyncs. After each run the store is reopened
// (Postgres: from the database alone, new folder) and its key counts checked.
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { Curve, useMultiFileAuthState, type SignalDataSet, type SignalKeyStore } from '@whiskeysockets/baileys'
import { createSql, migrate } from '../src/db/index.js'
import { createSessionStore } from '../src/keystore/index.js'

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    'delay-ms': { type: 'string', default: '5' },
  },
})
const OPS = Number(values.ops)
const CONCURRENCY = Number(values.concurrency)
const ROUNDS = Number(values.rounds)
const DELAY = Number(values['delay-ms'])
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Subject {
  keys: SignalKeyStore
  saveCreds(): Promise<void>
  close(): Promise<void>
  verify?(): Promise<Record<string, number>>
}

function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0
    return seed / 2 ** 32
  }
}

const CONTACTS = 200
const lid = (i: number) => `${300000000000000 + i}`
const sessionId = (i: number) => `${lid(i)}_1.0`
const record = (n: number) => Buffer.alloc(1500, n % 251)

type Op = { kind: 'send' | 'msg' | 'pkmsg'; contact: number; preKey: number }

function operations(count: number): Op[] {
  const rand = prng(42)
  let preKey = 0
  return Array.from({ length: count }, () => {
    const r = rand()
    const contact = Math.floor(rand() * CONTACTS)
    const kind = r < 0.6 ? 'send' : r < 0.9 ? 'msg' : 'pkmsg'
    return { kind, contact, preKey: kind === 'pkmsg' ? (preKey = (preKey % 812) + 1) : 0 }
  })
}

interface Timings { get: number[]; set: number[] }

async function timed<T>(list: number[], fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now()
  const out = await fn()
  list.push(performance.now() - t0)
  return out
}

async function runOp(keys: SignalKeyStore, op: Op, n: number, tm: Timings): Promise<number> {
  const c = op.contact
  const get = (type: 'session' | 'tctoken' | 'lid-mapping' | 'identity-key' | 'pre-key', id: string) => timed(tm.get, () => keys.get(type, [id]))
  const set = (data: SignalDataSet) => timed(tm.set, () => keys.set(data))
  if (op.kind === 'send') {
    await get('session', sessionId(c))
    await get('session', `1555000${c}.0`)
    await get('tctoken', `${lid(c)}@lid`)
    await get('tctoken', '__index')
    await set({ session: { [sessionId(c)]: record(n), [`1555000${c}.0`]: record(n + 1) } })
    return 5
  }
  if (op.kind === 'msg') {
    await get('session', sessionId(c))
    await set({ session: { [sessionId(c)]: record(n) } })
    return 2
  }
  await get('lid-mapping', `1555000${c}`)
  await get('lid-mapping', `${lid(c)}_reverse`)
  await set({ 'lid-mapping': { [`1555000${c}`]: lid(c), [`${lid(c)}_reverse`]: `1555000${c}` } })
  await get('identity-key', sessionId(c))
  await set({ 'identity-key': { [sessionId(c)]: Buffer.alloc(33, c % 251) } })
  await get('session', sessionId(c))
  await set({ session: { [sessionId(c)]: record(n) } })
  await get('pre-key', String(op.preKey))
  await set({ 'pre-key': { [String(op.preKey)]: null } })
  return 9
}

async function pairing(s: Subject): Promise<void> {
  const preKeys: Record<string, ReturnType<typeof Curve.generateKeyPair>> = {}
  for (let i = 1; i <= 812; i++) preKeys[i] = Curve.generateKeyPair()
  await s.keys.set({ 'pre-key': preKeys })
  for (let i = 0; i < 4; i++) await s.saveCreds()
  await s.keys.set({ 'lid-mapping': { '15550001111': '100000000000001', '100000000000001_reverse': '15550001111' } })
  await s.keys.set({ 'lid-mapping': { '15550002222': '200000000000002', '200000000000002_reverse': '15550002222' } })
  await s.keys.set({ 'device-list': { '15550001111': ['0', '7'] } })
  await s.keys.set({ session: { '100000000000001_1.0': record(1), '200000000000002_1.0': record(2) } })
}

/** Not timed: every contact has a session and a tctoken before the stream starts. */
async function warm(s: Subject): Promise<void> {
  const sessions: Record<string, Buffer> = {}
  const tctokens: Record<string, { token: Buffer; timestamp: string }> = { __index: { token: Buffer.from('[]'), timestamp: '0' } }
  for (let c = 0; c < CONTACTS; c++) {
    sessions[sessionId(c)] = record(c)
    tctokens[`${lid(c)}@lid`] = { token: Buffer.alloc(24, c), timestamp: '1717000000' }
  }
  await s.keys.set({ session: sessions, tctoken: tctokens })
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}

interface Result { pairingMs: number; callsPerSec: number; get: [number, number]; set: [number, number]; verified: string }

async function measure(make: () => Promise<Subject>): Promise<Result> {
  const s = await make()
  const p0 = performance.now()
  await pairing(s)
  const pairingMs = performance.now() - p0
  await warm(s)
  const ops = operations(OPS)
  const tm: Timings = { get: [], set: [] }
  let next = 0
  let calls = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ops.length) {
        const i = next++
        calls += await runOp(s.keys, ops[i], i, tm)
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  await s.close()
  let verified = 'n/a'
  if (s.verify) {
    const counts = await s.verify()
    const deleted = new Set(ops.filter((o) => o.kind === 'pkmsg').map((o) => o.preKey)).size
    verified = counts['pre-key'] === 812 - deleted && (counts.session ?? 0) >= CONTACTS ? 'yes' : `MISMATCH ${JSON.stringify(counts)}`
  }
  return { pairingMs, callsPerSec: calls / elapsed, get: [pct(tm.get, 50), pct(tm.get, 99)], set: [pct(tm.set, 50), pct(tm.set, 99)], verified }
}

const tempDir = () => mkdtemp(join(tmpdir(), 'wa-bench-'))

async function multiFile(): Promise<Subject> {
  const dir = await tempDir()
  const { state, saveCreds } = await useMultiFileAuthState(dir)
  return { keys: state.keys, saveCreds, close: () => rm(dir, { recursive: true, force: true }) }
}

async function ours(databaseUrl?: string, acknowledge?: 'local'): Promise<Subject> {
  const dir = await tempDir()
  const store = await createSessionStore({ sessionPath: join(dir, 's'), databaseUrl, acknowledge })
  const h = await store.open('bench')
  return {
    keys: h.state.keys,
    saveCreds: () => h.saveCreds(),
    close: () => store.close(),
    async verify() {
      const again = await createSessionStore({ sessionPath: join(dir, databaseUrl ? 'fresh' : 's'), databaseUrl })
      try {
        return await (await again.open('bench')).keyCounts()
      } finally {
        await again.close()
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

/** Adds delayMs each way (test/helpers/tcp-proxy.ts does the same plus cut/restore; kept out of the build). */
async function delayingProxy(target: URL, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) {
      s.setNoDelay(true)
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(s)
      })
    }
    client.on('data', (b) => setTimeout(() => upstream.write(b), delayMs))
    upstream.on('data', (b) => setTimeout(() => client.write(b), delayMs))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String((server.address() as net.AddressInfo).port)
  return {
    url: url.toString(),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

const dbName = `wa_bench_${process.pid}`
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
await admin.unsafe(`CREATE DATABASE "${dbName}"`)
const dbUrl = new URL(ADMIN_URL)
dbUrl.pathname = `/${dbName}`
const proxy = await delayingProxy(dbUrl, DELAY)
try {
  const sql = createSql(dbUrl.toString(), { max: 1 })
  await migrate(sql)
  const fresh = async () => {
    await sql`TRUNCATE whatsapp_sessions CASCADE`
  }
  const subjects: Array<[string, () => Promise<Subject>]> = [
    ['useMultiFileAuthState (reference)', multiFile],
    ['ours: file', () => ours()],
    ['ours: postgres', async () => (await fresh(), ours(dbUrl.toString()))],
    ["ours: postgres, ack 'local'", async () => (await fresh(), ours(dbUrl.toString(), 'local'))],
    [`ours: postgres +${DELAY} ms`, async () => (await fresh(), ours(proxy.url))],
    [`ours: postgres +${DELAY} ms, ack 'local'`, async () => (await fresh(), ours(proxy.url, 'local'))],
  ]
  const all = new Map<string, Result[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of subjects) all.set(name, [...(all.get(name) ?? []), await measure(make)])
  }
  await sql.end()
  const best = (rs: Result[]) => rs.reduce((a, b) => (b.callsPerSec > a.callsPerSec ? b : a))
  const ref = best(all.get(subjects[0][0]) as Result[]).callsPerSec
  const f = (x: number) => (x < 0.1 ? x.toFixed(3) : x.toFixed(2))
  console.log(`\n${OPS} operations, ${CONCURRENCY} in flight, best of ${ROUNDS} rounds (alternating); ms per call\n`)
  console.log('| store | pairing (ms) | calls/s | ratio | get p50 / p99 | set p50 / p99 | reopened intact |')
  console.log('|---|---:|---:|---:|---:|---:|---|')
  for (const [name] of subjects) {
    const r = best(all.get(name) as Result[])
    console.log(
      `| ${name} | ${r.pairingMs.toFixed(1)} | ${Math.round(r.callsPerSec)} | ${(r.callsPerSec / ref).toFixed(2)}x | ` +
        `${f(r.get[0])} / ${f(r.get[1])} | ${f(r.set[0])} / ${f(r.set[1])} | ${r.verified} |`,
    )
  }
} finally {
  await proxy.close()
  await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
}
