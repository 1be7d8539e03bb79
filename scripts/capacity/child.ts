// The server as a compiled child process for the capacity benchmark (one instance or a cluster):
// spawning, polling, and small helpers shared by scripts/bench-capacity.ts and scripts/capacity/.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

/** Runs work over items with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i)
  }))
  return results
}

export interface Child {
  proc: ChildProcess
  base: string
  startedAt: number
  lines: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
  get(path: string): Promise<{ status: number; body: any }>
  post(path: string, body: unknown): Promise<{ status: number; body: any }>
}

export function spawnServer(env: Record<string, string>, port: number): Child {
  const startedAt = performance.now()
  // As the production image runs it (Dockerfile CMD), plus the test preload and --expose-gc (memory reports).
  const proc = spawn(process.execPath, ['--enable-source-maps', '--expose-gc', '--import', './test/fake-whatsapp/preload-env.mjs', 'dist/src/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line)
    if (lines.length > 400) lines.splice(0, lines.length - 200)
  }
  proc.stdout?.on('data', collect)
  proc.stderr?.on('data', collect)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  )
  const base = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  return { proc, base, startedAt, lines, exited, get: (p) => call('GET', p), post: (p, b) => call('POST', p, b) }
}

export async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 100, child?: Child): Promise<T> {
  const end = performance.now() + timeoutMs
  for (;;) {
    if (child && child.proc.exitCode !== null) throw new Error(`the server exited (${child.proc.exitCode}) while waiting for ${what}`)
    try {
      const v = await check()
      if (v) return v
    } catch { /* not listening yet */ }
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

