// The server process as an operator runs it: refuses bad config with a clear message, serves, and
// exits 0 on SIGTERM after stopping the sessions.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { closedPort, tempDir } from './helpers.js'
import { poll } from '../helpers/poll.js'

const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
// Resolved here: the child runs in a temp cwd where a bare "tsx" would not resolve.
const tsx = import.meta.resolve('tsx')

function start(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, ['--import', tsx, server], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => out }
}

t.test('invalid configuration: exit 1 with one message listing what to fix, no values echoed', async (t) => {
  const cwd = await tempDir(t)
  const p = start({ NODE_ENV: 'production', PORT: 'eighty', DATABASE_URL: 'mysql://root:hunter2@x' }, cwd)
  t.equal(await p.exited, 1)
  t.match(p.output(), /API_KEY is required when NODE_ENV=production/)
  t.match(p.output(), /PORT must be an integer/)
  t.notMatch(p.output(), /hunter2/)
})

t.test('serves with no configuration but WA_WS_URL, and SIGTERM exits 0 after stopping the session', async (t) => {
  const cwd = await tempDir(t)
  const port = await closedPort()
  const p = start({ PORT: String(port), HOST: '127.0.0.1', WA_WS_URL: `ws://127.0.0.1:${await closedPort()}` }, cwd)
  t.teardown(() => p.child.kill('SIGKILL'))
  // Start-up time depends on the machine (tsx compiles on the fly): a generous bound that only names what never came.
  const health = await poll('the server to answer /health', () => fetch(`http://127.0.0.1:${port}/health`).catch(() => null), 120_000, 100)
  t.equal(health.status, 200)
  const status = await (await fetch(`http://127.0.0.1:${port}/api/whatsapp/status`)).json()
  t.equal(status.clientId, 'default')
  p.child.kill('SIGTERM')
  t.equal(await p.exited, 0)
  t.match(p.output(), /"state":"stopped"/)
  t.match(p.output(), /shutdown complete/)
})
