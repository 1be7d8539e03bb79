// TEST ONLY: sends this process's HTTPS requests for WhatsApp's media hosts (*.whatsapp.net) to the
// fake media server on 127.0.0.1, trusting its fixture certificate: Baileys uploads through Node's
// https.globalAgent and downloads through fetch (undici's global dispatcher). Nothing in src/ does
// this; the test preload calls it for child processes (FAKE_WA_MEDIA_PORT).
import https from 'node:https'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { Agent, buildConnector, setGlobalDispatcher } from 'undici'
import { MEDIA_TLS_CERT } from './media-tls.js'

const isWhatsAppHost = (host: string | null | undefined) => !!host && (host === 'whatsapp.net' || host.endsWith('.whatsapp.net'))

/** The fixture certificate plus the usual roots (other TLS keeps working). */
export const TEST_CA = [...tls.rootCertificates, MEDIA_TLS_CERT]

let routedPort: number | null = null

export function routeWhatsAppMediaTo(port: number): void {
  const first = routedPort === null
  routedPort = port
  if (!first) return
  const connector = buildConnector({ ca: TEST_CA })
  setGlobalDispatcher(new Agent({
    connect: (opts, callback) => {
      if (!isWhatsAppHost(opts.hostname)) return connector(opts, callback)
      return connector({ ...opts, hostname: '127.0.0.1', port: String(routedPort), servername: opts.hostname }, callback)
    },
  }))
  const agent = https.globalAgent as https.Agent & { createConnection(options: tls.ConnectionOptions, cb?: unknown): Duplex }
  const original = agent.createConnection.bind(agent)
  agent.createConnection = (options: tls.ConnectionOptions, cb?: unknown) => {
    if (!isWhatsAppHost(options.host)) return original(options, cb)
    return tls.connect({ ...options, host: '127.0.0.1', port: routedPort ?? 0, servername: options.host ?? undefined, ca: TEST_CA })
  }
}
