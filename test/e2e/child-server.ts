// The server as a real child process (what `npm start` runs, via tsx, plus the test preload that
// trusts the fake's certificate root), for tests that need two instances or a kill -9.
// Every child is killed (SIGKILL) at teardown if the test did not stop it.
import { spawn, type ChildProcess } from 'node:child_process'
import { pollThrough } from '../helpers/poll.js'
import { freePort } from '../helpers/ports.js'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '../helpers/teardown.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ChildServer {
  name: string
  baseUrl: string
  child: ChildProcess
  /** stdout/stderr lines (JSON logs at LOG_LEVEL). */
  lines: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  get(path: string): Promise<{ status: number; body: any }>
  post(path: string, body?: unknown): Promise<{ status: number; body: any }>
  kill(signal: NodeJS.Signals): void
}

export { freePort }

export async function spawnServer(t: Teardown, o: { name: string; env: Record<string, string> }): Promise<ChildServer> {
  // A caller that must know the address first (INTERNAL_URL) picks the port.
  const port = o.env.PORT !== undefined ? Number(o.env.PORT) : await freePort()
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './test/fake-whatsapp/preload.ts', 'src/server.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        RECONNECT_BASE_MS: '300',
        RECONNECT_MAX_MS: '2000',
        RATE_LIMIT_MAX: '100000',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const lines: string[] = []
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const baseUrl = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  const server: ChildServer = {
    name: o.name,
    baseUrl,
    child,
    lines,
    exited,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    kill: (signal) => { child.kill(signal) },
  }
  // Up when /health answers (or fail with what it printed). The wait is generous: with both cores busy,
  // a child's start (tsx compiling the server, loading Baileys) has taken over 30 s.
  const startMs = 120_000
  const until = Date.now() + startMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server ${o.name} exited (${child.exitCode}) at start:\n${lines.join('\n')}`)
    try {
      if ((await server.get('/health')).status === 200) return server
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new Error(`server ${o.name} did not answer /health in ${startMs / 1000} s:\n${lines.join('\n')}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Polls GET /api/whatsapp/status of a child until `state`; returns the status body. */
export async function waitForChildState(server: ChildServer, state: string, timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs
  let last: any = null
  for (;;) {
    try {
      const res = await server.get('/api/whatsapp/status')
      last = res.body
      if (res.status === 200 && res.body.state === state) return res.body
    } catch { /* restarting */ }
    if (Date.now() > until) throw new Error(`server ${server.name} not ${state} after ${timeoutMs} ms (last: ${JSON.stringify(last)})`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Polls the child servers every 200 ms until check holds; one that cannot answer yet (or was killed) counts as not yet. */
export const untilServers = <T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> =>
  pollThrough(what, check, timeoutMs, 200)

/** Log lines in which Baileys reports a message it could not decrypt. */
export const childDecryptFailures = (server: ChildServer): string[] =>
  server.lines.filter((l) => /failed to decrypt|Bad MAC|No session/i.test(l))

/** Polls GET /api/whatsapp/qr of a child until it answers 200; returns the QR string. */
export async function readChildQr(server: ChildServer, timeoutMs = 20_000): Promise<string> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    const res = await server.get('/api/whatsapp/qr')
    if (res.status === 200) return res.body.qr as string
  }
  throw new Error(`no QR from ${server.name} in ${timeoutMs} ms`)
}
