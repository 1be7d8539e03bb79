// npm run bench:api -- [--duration SECONDS] [--connections N]
// autocannon against GET /api/whatsapp/status of the real app (file storage in a temp dir, WA_WS_URL
// pointed at a closed local port so nothing reaches the internet) and against a bare Fastify route
// answering a similar JSON body, in the same run. Prints both and the ratio (target >= 0.7).
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

const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } })
const duration = Number(values.duration)
const connections = Number(values.connections)

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function run(url: string): Promise<number> {
  // Warm-up (JIT, connection pools) is not measured.
  await autocannon({ url, connections, duration: 1 })
  const result = await autocannon({ url, connections, duration })
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
  console.log(`autocannon: ${connections} connections, ${duration} s each (after 1 s warm-up)`)
  const bareRps = await run(`${bareUrl}/status`)
  const appRps = await run(`${appUrl}/api/whatsapp/status`)
  const ratio = appRps / bareRps
  console.log(`bare Fastify route        ${bareRps.toFixed(0).padStart(8)} req/s`)
  console.log(`GET /api/whatsapp/status  ${appRps.toFixed(0).padStart(8)} req/s`)
  console.log(`ratio                     ${ratio.toFixed(2).padStart(8)}  (target >= 0.70: ${ratio >= 0.7 ? 'met' : 'NOT met'})`)
  console.log(`session state during the run: ${app.sessions.get(config.clientId).state}`)
} finally {
  await app.close()
  await bare.close()
  await rm(dir, { recursive: true, force: true })
}
