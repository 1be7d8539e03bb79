// bench:capacity --instances K: the latency request routing adds. One linked session; GET
// /api/whatsapp/status of it, one request at a time over keep-alive, asked of its holder (answered
// there) and of another instance (which looks the holder up in Postgres and forwards the call over
// 127.0.0.1 to the holder's INTERNAL_URL), in alternating rounds of the same run.
import { Pool } from 'undici'
import { HOP_HEADER } from '../../src/cluster/route-decision.js'
import { percentile, type Child } from './child.js'

const ROUNDS = 6
const PER_ROUND = 300

async function timed(pool: Pool, path: string, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    const res = await pool.request({ method: 'GET', path })
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`)
    into.push(performance.now() - start)
  }
}

export async function forwardingProbe(children: Child[], clientIds: string[]): Promise<string> {
  const clientId = clientIds[0] as string
  const path = `/api/whatsapp/status?clientId=${clientId}`
  // With the hop header set, only the holder answers 200 (the others never forward it: 503).
  let holder: Child | undefined
  for (const child of children) {
    const res = await fetch(`${child.base}${path}`, { headers: { [HOP_HEADER]: 'bench' } })
    await res.text()
    if (res.status === 200) holder = child
  }
  const other = children.find((c) => c !== holder)
  if (!holder || !other) return 'not measured (no holder found)'
  const local = new Pool(holder.base, { connections: 1 })
  const forwarded = new Pool(other.base, { connections: 1 })
  try {
    await timed(local, path, 100, [])
    await timed(forwarded, path, 100, [])
    const l: number[] = []
    const f: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      await timed(local, path, PER_ROUND, l)
      await timed(forwarded, path, PER_ROUND, f)
    }
    const ms = (x: number) => `${x.toFixed(2)} ms`
    return `local p50 ${ms(percentile(l, 50))} p99 ${ms(percentile(l, 99))}; forwarded p50 ${ms(percentile(f, 50))} p99 ${ms(percentile(f, 99))}; ` +
      `added p50 ${ms(percentile(f, 50) - percentile(l, 50))} p99 ${ms(percentile(f, 99) - percentile(l, 99))} (GET /status, ${ROUNDS * PER_ROUND} each)`
  } finally {
    await Promise.all([local.close(), forwarded.close()])
  }
}
