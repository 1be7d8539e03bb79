// Builds the real app for tests: file-mode store in a fresh temp dir, WA_WS_URL at a closed local port
// (so the default session tries, fails fast and backs off - nothing reaches the internet), silent logs.
import { connect, type Socket } from 'node:net'
import pino from 'pino'
import { buildApp, type App, type AppOptions } from '../../src/app.js'
import { loadConfig, type AppConfig } from '../../src/config.js'
import type { Teardown } from '../helpers/teardown.js'
import { tempDir } from '../helpers/temp-dir.js'
import { freePort as closedPort } from '../helpers/ports.js'

export type { Teardown } from '../helpers/teardown.js'
export { tempDir } from '../helpers/temp-dir.js'
export { waitFor } from '../helpers/poll.js'
/** A local port nothing listens on: the default session dials it, fails fast and backs off. */
export { freePort as closedPort } from '../helpers/ports.js'

export async function testConfig(t: Teardown, env: Record<string, string> = {}): Promise<AppConfig> {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SESSION_PATH: await tempDir(t),
    WA_WS_URL: `ws://127.0.0.1:${await closedPort()}`,
    RECONNECT_BASE_MS: '200',
    RECONNECT_MAX_MS: '2000',
    ...env,
  })
}

export async function testApp(
  t: Teardown,
  env: Record<string, string> = {},
  options: Partial<Omit<AppOptions, 'config' | 'logger'>> = {},
): Promise<App> {
  const config = await testConfig(t, env)
  const app = await buildApp({ config, logger: pino({ level: 'silent' }), ...options })
  t.teardown(() => app.close())
  return app
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Parses every HTTP/1.1 response in `text`, read as latin1 (pipelined answers on one connection). */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = []
  let rest = text
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) break
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    // `text` is latin1 (one character per byte), so Content-Length counts characters here.
    const length = Number(headers['content-length'] ?? 0)
    const body = rest.slice(end + 4, end + 4 + length)
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') })
    rest = rest.slice(end + 4 + length)
  }
  return out
}

/**
 * Sends raw bytes to 127.0.0.1:port and resolves with everything the server wrote once it closes the
 * connection. `more` runs after the first write (for pipelining or a delayed second write).
 */
export async function rawHttp(port: number, request: string, more?: (socket: Socket) => Promise<void> | void): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.on('error', () => undefined) // a reset after the answer is fine: the answer is what counts
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(request)
  await more?.(socket)
  await closed
  return received
}
