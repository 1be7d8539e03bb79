// npm run bench:keystore -- [--ops N] [--streams K] [--rounds R] [--sessions S] [--delay MS]
//   (or BENCH_OPS, BENCH_STREAMS, BENCH_ROUNDS, BENCH_SESSIONS, BENCH_DELAY_MS; DATABASE_URL or
//   TEST_DATABASE_ADMIN_URL for the Postgres server, default postgres://postgres@127.0.0.1:5432/postgres)
//
// One process, one scratch database, the same recorded Baileys traffic (keystore-bench/trace.ts) for
// every store. Three parts:
//  1. Write cost: the keystore in Postgres mode against a minimal store that issues one upsert statement
//     per set and nothing else, both replaying the trace's sets call by call, alternating which goes
//     first, on the same database. Per round: set p50/p99 of each and the p50 ratio (ours / minimal);
//     then the median ratio of the rounds. --delay MS puts both behind a TCP proxy adding MS each way.
//  2. Concurrency: --streams chats at once on one store (Baileys handles chats concurrently), for
//     useMultiFileAuthState, file mode, the minimal store and Postgres mode: key calls per second and
//     set p50/p99; "durable" = a fresh instance (Postgres: from the database alone) reads back every key.
//  3. Memory: heap per open session over --sessions freshly paired sessions, file and Postgres mode.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { createSql, migrate, type Sql } from '../src/db/index.js'
import { memoryPerSession } from './keystore-bench/memory.js'
import { MINIMAL_TABLE, minimalStore, multiFile, ourStore, pct, Replay, type Subject } from './keystore-bench/stores.js'
import { recordTrace, type Call } from './keystore-bench/trace.js'

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: process.env.BENCH_OPS ?? '600' },
    streams: { type: 'string', default: process.env.BENCH_STREAMS ?? '8' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '5' },
    sessions: { type: 'string', default: process.env.BENCH_SESSIONS ?? '200' },
    delay: { type: 'string', default: process.env.BENCH_DELAY_MS ?? '0' },
  },
})
const OPS = Number(args.ops)
const STREAMS = Number(args.streams)
const ROUNDS = Math.max(1, Number(args.rounds))
const SESSIONS = Number(args.sessions)
const DELAY_MS = Number(args.delay)
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2))
const median = (xs: number[]) => pct(xs, 50)

/** A scratch folder per store, removed at the end. */
async function scratch(dirs: string[]): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wa-bench-'))
  dirs.push(d)
  return d
}

async function fresh(sql: Sql): Promise<void> {
  await sql`TRUNCATE whatsapp_sessions, whatsapp_session_tombstones, bench_minimal_keys CASCADE`
}

/** Part 1: the trace's sets on both stores, call by call, alternating which store goes first. */
async function writeCost(sql: Sql, url: string, dirs: string[]): Promise<void> {
  const trace = recordTrace({ ops: OPS, streams: 1 })
  const calls = trace.streams[0].flatMap((c): Call[] => (c.op === 'parallel' ? c.calls : [c])).filter((c) => c.op === 'set')
  console.log(`\n1. Write cost: ${calls.length} sets per round (one chat), each on both stores in turn; ms per set\n`)
  console.log('| round | minimal p50 | minimal p99 | ours p50 | ours p99 | p50 ratio | paired median |\n| --- | --- | --- | --- | --- | --- | --- |')
  const ratios: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    await fresh(sql)
    // One pool for both, as the server lends its one pool to the keystore: both see the same connections.
    const shared = createSql(url, { max: 4 })
    const subjects = [minimalStore(shared), await ourStore(await scratch(dirs), url, shared)]
    const replays = subjects.map((s) => new Replay(s))
    for (const r of replays) for (const c of trace.setup) await r.run(c, false)
    for (const [n, call] of calls.entries()) {
      const order = n % 2 === 0 ? [0, 1] : [1, 0]
      for (const i of order) await replays[i].run(call)
    }
    await Promise.all(subjects.map((s) => s.close()))
    await shared.end({ timeout: 1 })
    const [m, o] = replays.map((r) => r.set)
    const ratio = median(o) / median(m)
    ratios.push(ratio)
    // Each set ran on both stores one right after the other: the median of those pairs' ratios shrugs off
    // what the rest of the machine does to both alike.
    const paired = median(o.map((x, i) => x / m[i]))
    console.log(`| ${round} | ${ms(median(m))} | ${ms(pct(m, 99))} | ${ms(median(o))} | ${ms(pct(o, 99))} | ${ratio.toFixed(2)}x | ${paired.toFixed(2)}x |`)
  }
  console.log(`\nset p50 ratio, ours / minimal one-statement store: median ${median(ratios).toFixed(2)}x over ${ROUNDS} rounds ` +
    `(min ${Math.min(...ratios).toFixed(2)}x, max ${Math.max(...ratios).toFixed(2)}x)`)
}

/** Part 2: every stream at once on one store; then a fresh instance must read back every key. */
async function concurrency(sql: Sql, url: string, dirs: string[]): Promise<void> {
  const trace = recordTrace({ ops: OPS, streams: STREAMS })
  const targets: Array<[string, () => Promise<Subject>]> = [
    ['baileys-multifile', async () => multiFile(await scratch(dirs))],
    ['store-file', async () => ourStore(await scratch(dirs))],
    ['minimal-postgres', async () => minimalStore(sql)],
    ['store-postgres', async () => ourStore(await scratch(dirs), url)],
  ]
  console.log(`\n2. Concurrency: ${STREAMS} chats at once, ${OPS} operations; ms per call\n`)
  console.log('| target | calls/s | get p50 | set p50 | set p99 | durable |\n| --- | --- | --- | --- | --- | --- |')
  for (const [name, make] of targets) {
    await fresh(sql)
    const subject = await make()
    const replay = new Replay(subject)
    for (const c of trace.setup) await replay.run(c, false)
    const t0 = performance.now()
    await Promise.all(trace.streams.map(async (calls) => { for (const c of calls) await replay.run(c) }))
    const seconds = (performance.now() - t0) / 1000
    await subject.close()
    let durable = 'n/a'
    if (subject.reopen) {
      const again = await subject.reopen()
      durable = (await replay.check(again.keys)) ?? 'yes'
      await again.close()
    }
    const calls = replay.get.length + replay.set.length
    console.log(`| ${name} | ${(calls / seconds).toFixed(0)} | ${replay.get.length ? ms(median(replay.get)) : '-'} | ${ms(median(replay.set))} | ${ms(pct(replay.set, 99))} | ${durable} |`)
  }
}

/** Part 3: heap per open session. */
async function memory(sql: Sql, url: string, dirs: string[]): Promise<void> {
  console.log(`\n3. Memory: ${SESSIONS} freshly paired sessions (812 pre-keys each) open in one store; KB per session\n`)
  console.log('| mode | encryption | heap | off-heap |\n| --- | --- | --- | --- |')
  const key = randomBytes(32).toString('base64')
  for (const [mode, encryptionKey] of [['file', undefined], ['file', key], ['postgres', undefined], ['postgres', key]] as const) {
    await fresh(sql)
    const r = await memoryPerSession({ dir: await scratch(dirs), count: SESSIONS, encryptionKey, ...(mode === 'postgres' ? { databaseUrl: url, sql } : {}) })
    console.log(`| ${mode} | ${encryptionKey ? 'on' : 'off'} | ${(r.heap / 1024).toFixed(0)} | ${(r.external / 1024).toFixed(0)} |`)
  }
}

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const dbName = `wa_bench_${randomBytes(4).toString('hex')}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${dbName}"`)
  const u = new URL(base)
  u.pathname = `/${dbName}`
  const sql = createSql(u.toString(), { max: 8 })
  const dirs: string[] = []
  let proxy: { url(target: string): string; close(): Promise<void> } | null = null
  const started = performance.now()
  try {
    await migrate(sql)
    await sql.unsafe(MINIMAL_TABLE)
    let url = u.toString()
    if (DELAY_MS > 0) {
      // The test helper's delaying proxy, loaded at run time (scripts are built for production, test/ is not).
      const mod = (await import(new URL('../test/helpers/tcp-proxy.ts', import.meta.url).href)) as {
        createTcpProxy(o: { target: { host: string; port: number }; delayMs: number }): Promise<{ url(target: string): string; close(): Promise<void> }>
      }
      proxy = await mod.createTcpProxy({ target: { host: u.hostname, port: Number(u.port || 5432) }, delayMs: DELAY_MS })
      url = proxy.url(url)
    }
    console.log(`keystore bench${DELAY_MS > 0 ? ` (database behind +${DELAY_MS} ms each way)` : ''}: ${OPS} operations, ${ROUNDS} rounds`)
    const delayed = createSql(url, { max: 8 })
    try {
      await writeCost(delayed, url, dirs)
    } finally {
      await delayed.end({ timeout: 1 })
    }
    await concurrency(sql, u.toString(), dirs)
    if (SESSIONS > 0) await memory(sql, u.toString(), dirs)
    console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`)
  } finally {
    await proxy?.close()
    await sql.end({ timeout: 1 })
    for (const d of dirs) await rm(d, { recursive: true, force: true })
    await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
    await admin.end()
  }
}

main().catch((err: unknown) => {
  // Never print a connection string: postgres.js errors carry the host at most.
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
