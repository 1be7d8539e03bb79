// A real local webhook consumer (node:http) for tests and the benchmark: records every request it
// receives (headers, raw body), verifies signatures with standardwebhooks, answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export type Answer = number | { status: number; headers?: Record<string, string> }

export async function startConsumer(answer: (r: Received) => Answer = () => 204) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() }
      received.push(r)
      const a = answer(r)
      const { status, headers } = typeof a === 'number' ? { status: a, headers: {} } : a
      res.writeHead(status, headers).end()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Bodies of the 2xx-answered requests would need the answer; tests parse received themselves. */
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
