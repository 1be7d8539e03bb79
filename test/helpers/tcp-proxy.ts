// A TCP proxy in front of a server (Postgres here): an optional delay each way (a remote database),
// and cut()/restore() to simulate losing it. cut('refuse') destroys every connection and refuses new
// ones (the server is down); cut('blackhole') keeps connections open but drops every byte and accepts
// new connections that go nowhere (a dropped route: callers hang until their own timeouts).
// resetWhen resets a connection (RST) when the client sends a chunk it picks.
import net from 'node:net'

export interface TcpProxy {
  readonly port: number
  readonly host: string
  /** The target URL with host:port swapped for the proxy's. */
  url(targetUrl: string): string
  cut(mode?: 'refuse' | 'blackhole'): void
  restore(): void
  close(): Promise<void>
}

export interface TcpProxyOptions {
  target: { host: string; port: number }
  /** Added to every chunk in each direction (ms), order preserved. */
  delayMs?: number
  /** A chunk from the client for which the connection is reset instead of forwarded. */
  resetWhen?: (chunk: Buffer) => boolean
}

export async function createTcpProxy({ target, delayMs = 0, resetWhen }: TcpProxyOptions): Promise<TcpProxy> {
  let isCut = false
  let blackhole = false
  const sockets = new Set<net.Socket>()

  function pipe(from: net.Socket, to: net.Socket, reset?: (chunk: Buffer) => boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (blackhole) return
      if (reset?.(chunk)) {
        from.resetAndDestroy()
        to.destroy()
        return
      }
      if (delayMs <= 0) {
        to.write(chunk)
        return
      }
      // Timers of equal delay fire in insertion order, so the stream stays in order.
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk)
      }, delayMs)
    })
  }

  const server = net.createServer((client) => {
    if (blackhole) {
      // Accepted, never forwarded; destroyed on restore like every connection that lived through the cut.
      sockets.add(client)
      client.on('error', () => undefined)
      return
    }
    if (isCut) {
      client.destroy()
      return
    }
    client.setNoDelay(true)
    const upstream = net.connect(target.port, target.host)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', () => setTimeout(end, delayMs))
    upstream.on('close', () => setTimeout(end, delayMs))
    pipe(client, upstream, resetWhen)
    pipe(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port

  return {
    port,
    host: '127.0.0.1',
    url(targetUrl) {
      const u = new URL(targetUrl)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    cut(mode = 'refuse') {
      if (mode === 'blackhole') {
        blackhole = true
        return
      }
      isCut = true
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    restore() {
      isCut = false
      if (!blackhole) return
      blackhole = false
      // Connections that lived through a blackhole lost bytes: the protocol on them is broken.
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    async close() {
      isCut = true
      for (const s of sockets) s.destroy()
      sockets.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
