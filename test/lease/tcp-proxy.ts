// A TCP proxy whose link can be cut like a network partition (blackhole: bytes are dropped, new
// connections are accepted but go nowhere) and restored. Used to make a lease renewal fail.
import net from 'node:net'

export interface TcpProxy {
  port: number
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function createTcpProxy({ target }: { target: { host: string; port: number } }): Promise<TcpProxy> {
  let cut = false
  const links = new Set<{ client: net.Socket; upstream: net.Socket | null }>()

  const server = net.createServer((client) => {
    const link = { client, upstream: null as net.Socket | null }
    links.add(link)
    client.on('error', () => {})
    client.on('close', () => { link.upstream?.destroy(); links.delete(link) })
    if (cut) return // accepted, never forwarded: like a dropped route
    const upstream = net.connect(target.port, target.host)
    link.upstream = upstream
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => client.destroy())
    client.on('data', (b) => { if (!cut) upstream.write(b) })
    upstream.on('data', (b) => { if (!cut) client.write(b) })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port

  return {
    port,
    cut() { cut = true },
    restore() {
      cut = false
      // Connections that lived through the cut lost bytes: the protocol on them is broken.
      for (const l of links) { l.client.destroy(); l.upstream?.destroy() }
    },
    async close() {
      for (const l of links) { l.client.destroy(); l.upstream?.destroy() }
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
