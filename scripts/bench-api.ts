// npm run bench:api -- [--duration SECONDS] [--connections N]
// autocannon against GET /api/whatsapp/status of the real app (file storage in a temp dir, WA_WS_URL
// pointed at a closed local port so nothing reaches the internet) and against a bare Fastify route
// answering a similar JSON body, in the same run. Prints both and the ratio (target >= 0.7).
// The two are measured in alternating rounds and the median ratio is reported: on a shared machine a
// single pair of runs swings by a factor of two with whatever else is running.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import pino from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
  },
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function run(url: string): Promise<number> {
  // One worker thread generates the load, so the main thread (the servers) is not competing with it.
  const result = await autocannon({ url, connections, duration, workers: 1 })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.average
}

const dir = await mkdtemp(join(tmpdir(), 'bench-api-'))
const config = loadConfig({
  SESSION_PATH: dir,
  WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`,
  LOG_LEVEL: 'silent',
  RATE_LIMIT_MAX: '1000000',
})
const app = await buildApp({ config, logger: pino({ level: 'silent' }) })
const appUrl = await app.listen({ host: '127.0.0.1', port: 0 })

const bare = Fastify()
const body = app.sessions.get(config.clientId).status()
bare.get('/status', async () => ({ ...body, connected: false }))
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 })

try {
  console.log(`autocannon: ${connections} connections, ${rounds} alternating rounds of ${duration} s each (after a warm-up)`)
  // Warm-up (JIT, connection pools) is not measured.
  await autocannon({ url: `${bareUrl}/status`, connections, duration: 1 })
  await autocannon({ url: `${appUrl}/api/whatsapp/status`, connections, duration: 1 })
  const bare: number[] = []
  const api: number[] = []
  const ratios: number[] = []
  for (let i = 0; i < rounds; i++) {
    bare.push(await run(`${bareUrl}/status`))
    api.push(await run(`${appUrl}/api/whatsapp/status`))
    ratios.push(api[i] / bare[i])
    console.log(`  round ${i + 1}: bare ${bare[i].toFixed(0)} req/s, api ${api[i].toFixed(0)} req/s, ratio ${ratios[i].toFixed(2)}`)
  }
  const ratio = median(ratios)
  console.log(`bare Fastify route        ${median(bare).toFixed(0).padStart(8)} req/s (median)`)
  console.log(`GET /api/whatsapp/status  ${median(api).toFixed(0).padStart(8)} req/s (median)`)
  console.log(`ratio                     ${ratio.toFixed(2).padStart(8)}  median of rounds (target >= 0.70: ${ratio >= 0.7 ? 'met' : 'NOT met'})`)
  console.log(`session state during the run: ${app.sessions.get(config.clientId).state}`)
} finally {
  await app.close()
  await bare.close()
  await rm(dir, { recursive: true, force: true })
}
