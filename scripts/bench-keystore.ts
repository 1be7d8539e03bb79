// npm run bench:keystore -- [--rounds N] [--delay MS] [--streams K]
//
// A realistic Baileys key workload (the traffic of ../shared/FAKE-WHATSAPP.md §7), run in one process,
// one target after the other, against:
//   baileys-multifile  Baileys' useMultiFileAuthState (the reference; writeFile without fsync)
//   store-file         our store in file mode (every acknowledged write fsynced)
//   store-postgres     our store in Postgres mode (every acknowledged write committed, file mirror)
//   store-postgres+Nms the same through a TCP proxy adding --delay ms each way (Supabase from Fly)
//   ... ack:local      the two Postgres rows again with acknowledge:'local' (a set returns once the
//                      mirror is fsynced; the database gets it right after, in order, group-committed)
//
// The mix, with calls awaited one after another as Baileys does on one socket:
//   pairing      1 set of 812 pre-keys (timed on its own)
//   each round   send on a warm socket: get session x2, get tctoken x2, set session (2 ids)
//                inbound message:       get session, set session (1 id)
//   every 10th   inbound pkmsg from a new contact: get/set lid-mapping (pn + reverse), get/set
//                identity-key, get/set session, get pre-key, set pre-key {id: null}
// Values have Baileys' sizes: sessions ~1.5 KB, identity keys 33 bytes, tctokens 24 bytes.
// Two passes: 1 stream (every call awaited in turn: the latency floor) and K streams (default 8) of
// rounds/K each with distinct peers, run concurrently on the same key store, as Baileys handles
// messages of different chats concurrently on one busy account. The total work is the same.
//
// Postgres: DATABASE_URL (or the local test server) gets a fresh scratch database, migrated, dropped
// at the end. After each run a new store instance reopens the session and checks the final state, so a
// write acknowledged but not durable would show up as a mismatch.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { useMultiFileAuthState, type SignalDataSet, type SignalKeyStore } from '@whiskeysockets/baileys'
import postgres from 'postgres'
import { createSql, migrate } from '../src/db/index.js'
import { createSessionStore } from '../src/keystore/index.js'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000' },
    delay: { type: 'string', default: '5' },
    streams: { type: 'string', default: '8' },
  },
})
const ROUNDS = Number(args.rounds)
const DELAY_MS = Number(args.delay)
const STREAMS = Number(args.streams)
const CLIENT = 'bench'

interface Target {
  name: string
  keys: SignalKeyStore
  close(): Promise<void>
  /** Reopen from storage in a fresh instance and return what it holds for the checked ids. */
  verify?(): Promise<SignalKeyStore & { close(): Promise<void> }>
}

interface Result {
  name: string
  ops: number
  seconds: number
  pairingMs: number
  get: number[]
  set: number[]
  durable: string
}

// --- the workload ---------------------------------------------------------------------------------

const session = () => randomBytes(1400 + Math.floor(Math.random() * 200))

async function runWorkload(keys: SignalKeyStore, timings: { get: number[]; set: number[] }, streams: number) {
  const get = async (type: Parameters<SignalKeyStore['get']>[0], ids: string[]) => {
    const t0 = performance.now()
    await keys.get(type, ids)
    timings.get.push(performance.now() - t0)
  }
  const set = async (data: Record<string, Record<string, unknown>>) => {
    const t0 = performance.now()
    await keys.set(data as SignalDataSet)
    timings.set.push(performance.now() - t0)
  }
  let nextPreKey = 1
  const stream = async (k: number, rounds: number) => {
    const contacts = [1, 2, 3].map((c) => `1555${String(k).padStart(4, '0')}000${c}`)
    for (let round = 0; round < rounds; round++) {
      const peer = contacts[round % contacts.length]
      // send on a warm socket (the peer's two devices)
      await get('session', [`${peer}.0`])
      await get('session', [`${peer}.7`])
      await get('tctoken', [`${peer}@lid`])
      await get('tctoken', [`${peer}@lid`])
      await set({ session: { [`${peer}.0`]: session(), [`${peer}.7`]: session() } })
      // inbound message
      await get('session', [`${peer}.0`])
      await set({ session: { [`${peer}.0`]: session() } })
      if (round % 10 === 9) {
        // pkmsg from a new contact: consumes one pre-key
        const pn = `1666${String(k).padStart(3, '0')}${String(round).padStart(7, '0')}`
        const lid = `2000${String(k).padStart(3, '0')}${String(round).padStart(11, '0')}`
        const addr = `${lid}_1.0`
        await get('lid-mapping', [pn])
        await set({ 'lid-mapping': { [pn]: lid, [`${lid}_reverse`]: pn } })
        await get('identity-key', [addr])
        await set({ 'identity-key': { [addr]: randomBytes(33) } })
        await get('session', [addr])
        await set({ session: { [addr]: session() } })
        const id = String(nextPreKey++)
        await get('pre-key', [id])
        await set({ 'pre-key': { [id]: null } })
      }
    }
  }
  await Promise.all(Array.from({ length: streams }, (_, k) => stream(k, Math.ceil(ROUNDS / streams))))
  return { consumedPreKeys: nextPreKey - 1 }
}

function preKeys(): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 1; i <= 812; i++) out[String(i)] = { private: randomBytes(32), public: randomBytes(32) }
  return out
}

async function measure(target: Target, streams: number): Promise<Result> {
  const timings = { get: [] as number[], set: [] as number[] }
  const t0 = performance.now()
  await target.keys.set({ 'pre-key': preKeys() } as SignalDataSet)
  const pairingMs = performance.now() - t0
  const marker = randomBytes(16)
  const t1 = performance.now()
  const { consumedPreKeys } = await runWorkload(target.keys, timings, streams)
  await target.keys.set({ session: { 'marker.0': marker } } as SignalDataSet)
  const seconds = (performance.now() - t1) / 1000
  await target.close()
  let durable = 'n/a'
  if (target.verify) {
    const again = await target.verify()
    const got = await again.get('session', ['marker.0'])
    const pre = await again.get('pre-key', ['1', String(consumedPreKeys), String(consumedPreKeys + 1), '812'])
    const ok =
      Buffer.from(got['marker.0'] as Uint8Array).equals(marker) &&
      pre['1'] == null &&
      pre[String(consumedPreKeys)] == null &&
      pre[String(consumedPreKeys + 1)] != null &&
      pre['812'] != null
    durable = ok ? 'yes' : 'MISMATCH'
    await again.close()
  }
  return { name: target.name, ops: timings.get.length + timings.set.length, seconds, pairingMs, ...timings, durable }
}

// --- targets ----------------------------------------------------------------------------------------

async function baileysTarget(dir: string): Promise<Target> {
  const { state } = await useMultiFileAuthState(join(dir, 'multifile'))
  return {
    name: 'baileys-multifile',
    keys: state.keys,
    close: async () => {},
    async verify() {
      const { state: s } = await useMultiFileAuthState(join(dir, 'multifile'))
      return Object.assign(s.keys, { close: async () => {} })
    },
  }
}

async function storeTarget(
  name: string,
  sessionPath: string,
  databaseUrl?: string,
  acknowledge?: 'database' | 'local',
): Promise<Target> {
  const store = await createSessionStore({ sessionPath, databaseUrl, acknowledge })
  const handle = await store.open(CLIENT)
  return {
    name,
    keys: handle.state.keys,
    async close() {
      await handle.close()
      await store.close()
    },
    async verify() {
      // Postgres mode: an empty folder, so the state can only come from the database.
      const path = databaseUrl ? await mkdtemp(join(tmpdir(), 'wa-bench-verify-')) : sessionPath
      const s = await createSessionStore({ sessionPath: path, databaseUrl })
      const h = await s.open(CLIENT)
      return Object.assign(h.state.keys, {
        async close() {
          await h.close()
          await s.close()
          if (databaseUrl) await rm(path, { recursive: true, force: true })
        },
      })
    },
  }
}

interface Proxy {
  url(target: string): string
  close(): Promise<void>
}

/** The test helper's delaying proxy, loaded at run time (scripts are built for production, test/ is not). */
async function delayingProxy(databaseUrl: string, delayMs: number): Promise<Proxy> {
  const mod = (await import(new URL('../test/helpers/tcp-proxy.ts', import.meta.url).href)) as {
    createTcpProxy(o: { target: { host: string; port: number }; delayMs: number }): Promise<Proxy>
  }
  const u = new URL(databaseUrl)
  return mod.createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) }, delayMs })
}

async function scratchDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `wa_bench_${randomBytes(4).toString('hex')}`
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${name}"`)
  const u = new URL(baseUrl)
  u.pathname = `/${name}`
  const sql = createSql(u.toString(), { max: 1 })
  await migrate(sql)
  await sql.end({ timeout: 1 })
  return {
    url: u.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await admin.end()
    },
  }
}

// --- report -------------------------------------------------------------------------------------------

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2))

function table(results: Result[]): string {
  const ref = results[0].ops / results[0].seconds
  const head = ['target', 'ops/s', 'ratio', 'get p50', 'get p99', 'set p50', 'set p99', 'all p50', 'all p99', '812 pre-keys', 'durable']
  const rows = results.map((r) => {
    const all = [...r.get, ...r.set]
    const rate = r.ops / r.seconds
    return [
      r.name,
      rate.toFixed(0),
      `${(rate / ref).toFixed(2)}x`,
      ms(pct(r.get, 50)),
      ms(pct(r.get, 99)),
      ms(pct(r.set, 50)),
      ms(pct(r.set, 99)),
      ms(pct(all, 50)),
      ms(pct(all, 99)),
      `${r.pairingMs.toFixed(1)} ms`,
      r.durable,
    ]
  })
  const lines = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`)
  return lines.join('\n')
}

async function pass(base: string, streams: number): Promise<Result[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-bench-'))
  const results: Result[] = []
  let db: Awaited<ReturnType<typeof scratchDatabase>> | null = null
  let proxy: Proxy | null = null
  try {
    results.push(await measure(await baileysTarget(dir), streams))
    results.push(await measure(await storeTarget('store-file', join(dir, 'file')), streams))
    for (const ack of ['database', 'local'] as const) {
      const suffix = ack === 'local' ? ' ack:local' : ''
      db = await scratchDatabase(base)
      results.push(await measure(await storeTarget(`store-postgres${suffix}`, join(dir, `pg-${ack}`), db.url, ack), streams))
      await db.drop()
      db = await scratchDatabase(base)
      proxy = await delayingProxy(db.url, DELAY_MS)
      const remote = proxy.url(db.url)
      const name = `store-postgres+${DELAY_MS}ms${suffix}`
      results.push(await measure(await storeTarget(name, join(dir, `pg-remote-${ack}`), remote, ack), streams))
      await proxy.close()
      proxy = null
      await db.drop()
      db = null
    }
  } finally {
    await proxy?.close()
    await db?.drop()
    await rm(dir, { recursive: true, force: true })
  }
  return results
}

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  for (const streams of [...new Set([1, STREAMS])]) {
    const results = await pass(base, streams)
    const perStream = Math.ceil(ROUNDS / streams)
    console.log(
      `\n${streams} stream(s) x ${perStream} rounds: ${results[0].ops} key calls per target after a pairing set of 812 pre-keys; ms per call.\n`,
    )
    console.log(table(results))
  }
  console.log('\nratio = ops/s relative to baileys-multifile. durable = a fresh instance reopened the stored state.')
}

main().catch((err: unknown) => {
  // Never print a connection string: postgres.js errors carry the host at most.
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
