// startFakeWhatsApp(): a WhatsApp Web server for the real Baileys client, on 127.0.0.1.
// The websocket speaks the real protocol on /ws/chat; the same HTTP server answers a small JSON
// control API (http-control.ts) for when the fake runs in its own process.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { Curve, getBinaryNodeChild, type BinaryNode, type MediaType } from '@whiskeysockets/baileys'
import { FIXTURE_ROOT_SEED, makeCertChain, rootKeyFromSeed } from './certs.js'
import { FakeConnection, type ConnectionHandlers } from './connection.js'
import { iqKey, routeIq } from './iq-router.js'
import { encryptAndHost, mediaConnNodes, startFakeMedia, type FakeMedia } from './media.js'
import { handleClientMessage } from './messages.js'
import { flushBacklog, settle } from './backlog.js'
import { contactControls } from './contacts-api.js'
import { inspectControls } from './inspect-api.js'
import { handleClientGroupMessage } from './groups.js'
import { handlePairDeviceSign, scanQR, startPairing, type PairResult, type ScanOptions } from './pairing.js'
import { handleControlRequest } from './http-control.js'
import { enterPairingCode, handleLinkCodeIq } from './link-code.js'
import type { HandshakeResult } from './noise.js'
import { World, type Account, type Receipt } from './world.js'

export interface FakeWhatsAppOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** 32-byte seed of the root key that signs the certificate chain (default: the fixture root). */
  rootSeed?: Uint8Array
  /** The default account a scan pairs (default 15550001111 / LID 100000000000001). */
  account?: { pn: string; lid: string; name?: string }
  /** Leave <lid> out of device lookups once this companion got it (keeps sessions across restarts). */
  lidOnFirstLookupOnly?: boolean
  /** A second login of a paired account: 'replace' (default, 440 to the older one) or 'allow'. */
  onSecondLogin?: 'replace' | 'allow'
  /**
   * Messages the client never receipted (it nacked them, or went away first) are delivered again,
   * offline, at its next login, as WhatsApp does (default false: delivered once).
   */
  redeliverUnreceipted?: boolean
  /** Called with errors the fake hit while handling a client (default: ignored, see errors()). */
  onError?: (err: unknown) => void
  /** How many uploaded media files the media server keeps, oldest dropped first (default: all). */
  keepUploads?: number
}

export const DEFAULT_ACCOUNT = { pn: '15550001111', lid: '100000000000001' } as const

export type FakeWhatsApp = Awaited<ReturnType<typeof startFakeWhatsApp>>

export const startFakeWhatsApp = async (options: FakeWhatsAppOptions = {}) => {
  const world = new World({
    lidOnFirstLookupOnly: options.lidOnFirstLookupOnly ?? false,
    onSecondLogin: options.onSecondLogin ?? 'replace',
    redeliverUnreceipted: options.redeliverUnreceipted ?? false,
  })
  const defaultAccount = options.account ?? DEFAULT_ACCOUNT
  world.account(defaultAccount.pn, defaultAccount.lid).name = options.account?.name
  const root = rootKeyFromSeed(options.rootSeed ?? FIXTURE_ROOT_SEED)
  const serverStatic = Curve.generateKeyPair()
  const certChain = makeCertChain(root, serverStatic.public)
  const connections = new Set<FakeConnection>()
  const errors: string[] = []
  const onError = (err: unknown) => {
    errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err))
    options.onError?.(err)
  }
  const t = () => String(Math.floor(Date.now() / 1000))
  const media = await startFakeMedia({ keepUploads: options.keepUploads })
  /** While set, logins wait here (the client stays "connecting"). */
  let heldLogins: Array<() => void> | null = null

  const login = (conn: FakeConnection, { clientStatic, payload }: HandshakeResult): void => {
    const user = String(payload.username)
    world.loginAttempts.set(user, (world.loginAttempts.get(user) ?? 0) + 1)
    const account = world.accounts.get(user)
    const companion = account?.companion
    if (!account || !companion || companion.deviceId !== payload.device || !companion.noiseKey.equals(clientStatic)) {
      conn.send({ tag: 'failure', attrs: { reason: '401', location: 'fake' } })
      setTimeout(() => conn.close(), 100).unref()
      world.changed()
      return
    }
    conn.account = account
    conn.deviceId = companion.deviceId
    const others = [...account.connections]
    account.connections.add(conn)
    account.maxConcurrent = Math.max(account.maxConcurrent, account.connections.size)
    if (world.options.onSecondLogin === 'replace') for (const other of others) conflict(other)
    conn.send({
      tag: 'success',
      attrs: {
        t: t(),
        lid: `${account.lid}:${companion.deviceId}@lid`,
        props: '1',
        abprops: '1',
        location: 'fake',
        creation: t(),
        display_name: '',
      },
    })
    world.changed()
  }

  const onNode = async (conn: FakeConnection, node: BinaryNode): Promise<void> => {
    if (handlePairDeviceSign(world, conn, node)) return
    switch (node.tag) {
      case 'iq': {
        if (node.attrs.type === 'result' || node.attrs.type === 'error') return
        if (handleLinkCodeIq(world, conn, node)) return
        if (getBinaryNodeChild(node, 'remove-companion-device') && conn.account) {
          conn.account.companion = undefined
          world.changed()
        }
        if (iqKey(node) === 'w:m/set/media_conn') {
          conn.send({ tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: node.attrs.id ?? '' }, content: mediaConnNodes() })
          return
        }
        const key = routeIq(world, conn, node)
        // The last iq Baileys awaits before 'open': deliver what came in while it was away.
        if (key === 'encrypt/get/digest') flushBacklog(world, conn)
        return
      }
      case 'message':
        if (node.attrs.to?.endsWith('@g.us')) return handleClientGroupMessage(world, conn, node)
        return handleClientMessage(world, conn, node)
      case 'receipt': {
        const r: Receipt = { id: node.attrs.id ?? '', to: node.attrs.to ?? '', type: node.attrs.type ?? 'delivery' }
        if (node.attrs.from) r.from = node.attrs.from
        world.receipts.push(r)
        conn.send({ tag: 'ack', attrs: { class: 'receipt', id: r.id, from: r.to } })
        if (conn.account) settle(conn.account, node)
        world.changed()
        return
      }
      case 'ack': {
        const ack: { id: string; class: string; error?: string } = { id: node.attrs.id ?? '', class: node.attrs.class ?? '' }
        if (node.attrs.error) ack.error = node.attrs.error
        world.acks.push(ack)
        if (conn.account) settle(conn.account, node)
        world.changed()
        return
      }
      default:
        // ib (unified_session), presence, chatstate: nothing to answer
        return
    }
  }

  const handlers: ConnectionHandlers = {
    onHandshake: (conn, result) => {
      world.handshakes++
      const pairingData = result.payload.devicePairingData
      if (result.payload.username !== undefined && result.payload.username !== null && Number(result.payload.username) > 0) {
        if (heldLogins) heldLogins.push(() => { if (!conn.closed) login(conn, result) })
        else login(conn, result)
      } else if (pairingData?.eIdent) {
        startPairing(conn, Buffer.from(pairingData.eIdent))
        world.changed()
      } else {
        conn.send({ tag: 'failure', attrs: { reason: '400' } })
        conn.close()
      }
    },
    onNode,
    onClose: conn => {
      connections.delete(conn)
      conn.pairing?.pending?.reject(new Error('the client closed the connection before pairing completed'))
      conn.linkCode?.phone?.reject(new Error('the client closed the connection before pairing completed'))
      conn.account?.connections.delete(conn)
      world.changed()
    },
    onError: (_conn, err) => onError(err),
  }

  const http = createServer((req, res) => {
    handleControlRequest(api, req, res).catch(err => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }))
    })
  })
  const wss = new WebSocketServer({ server: http, path: '/ws/chat' })
  wss.on('connection', ws => {
    const conn = new FakeConnection(ws, serverStatic, certChain, handlers)
    connections.add(conn)
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (http.address() as AddressInfo).port

  const accountOf = (pn?: string): Account => {
    const account = world.findAccount(pn)
    if (!account) throw new Error(`unknown account ${pn ?? '(default)'}`)
    return account
  }
  const liveOf = (pn?: string): FakeConnection[] =>
    pn === undefined ? [...connections] : [...accountOf(pn).connections].filter((c): c is FakeConnection => c instanceof FakeConnection)
  function conflict(conn: { id: number; close(): void }): void {
    const c = [...connections].find(x => x.id === conn.id)
    if (c) world.conflictsSent++
    c?.streamError({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] })
  }

  const api = {
    ...contactControls(world, accountOf),
    ...inspectControls(world, accountOf, errors),
    /** ws://127.0.0.1:PORT/ws/chat: pass it to makeWASocket as waWebSocketUrl (the app: WA_WS_URL). */
    url: `ws://127.0.0.1:${port}/ws/chat`,
    /** Base URL of the HTTP control API (see http-control.ts). */
    controlUrl: `http://127.0.0.1:${port}`,
    port,
    /** Public key (32 bytes) of the root that signed this fake's certificates. */
    rootPublicKey: root.public,
    /** The default account's phone number and LID users. */
    account: { pn: defaultAccount.pn, lid: defaultAccount.lid },

    /**
     * The phone scans a QR that Baileys displayed (connection.update `qr`, or the app's QR
     * endpoint). The QR carries the companion's ADV secret, so the string itself is needed.
     * Resolves once the companion signed its identity; the fake then sends 515.
     */
    scanQR(qr: string, opts: ScanOptions = {}): Promise<PairResult> {
      const account = opts.pn ? world.account(opts.pn, opts.lid) : accountOf(undefined)
      if (opts.name) account.name = opts.name
      return scanQR(world, connections, qr, account, { ...opts, name: opts.name ?? account.name })
    },
    /** Same as scanQR with the QR in opts.qr (the phone scans what the screen shows last). */
    scanLatestQR(opts: ScanOptions & { qr: string }): Promise<PairResult> {
      return api.scanQR(opts.qr, opts)
    },
    /**
     * The phone enters a pairing code (what Baileys' requestPairingCode returned, dashes allowed)
     * for the account whose number the companion asked for (opts.pn, default account).
     * Resolves once pairing completed; the fake then sends 515, as after a QR scan.
     */
    async enterPairingCode(code: string, opts: ScanOptions & { timeoutMs?: number } = {}): Promise<PairResult> {
      const account = opts.pn ? world.account(opts.pn, opts.lid) : accountOf(undefined)
      // requestPairingCode() resolves once its stanza is written, maybe before the fake read it.
      const jid = `${account.pn}@s.whatsapp.net`
      await api
        .waitFor(() => [...connections].some(c => !c.closed && c.linkCode?.jid === jid), opts.timeoutMs ?? 5000)
        .catch(() => undefined)
      return enterPairingCode(world, connections, code, account, { ...opts, name: opts.name ?? account.name })
    },
    /** Creates an account (its phone number, LID and fake phone) before any scan, e.g. hundreds for a benchmark. */
    addAccount(account: { pn: string; lid: string; name?: string }): void {
      const acc = world.account(account.pn, account.lid)
      if (account.name) acc.name = account.name
    },
    /** Accounts with a paired companion that is logged in right now. */
    loggedInAccounts(): number {
      let n = 0
      for (const a of world.accounts.values()) if (a.companion && a.connections.size > 0) n++
      return n
    },
    /** Connections waiting for a scan (a QR is showing). */
    waitingForScan(): number {
      return [...connections].filter(c => c.pairing && !c.closed).length
    },
    /** WhatsApp's media servers (uploads, downloads): route *.whatsapp.net here (media-redirect.ts). */
    media: media as FakeMedia,
    /** Encrypts and hosts a file as a sender's phone does; returns the fields of its media message. */
    hostMedia(bytes: Buffer, type: MediaType) {
      return encryptAndHost(media, bytes, type)
    },
    /** How the server answers the companion's messages from now on: ack (default), error (479), none. */
    setMessageAcks(mode: 'ack' | 'error' | 'none'): void {
      world.messageAcks = mode
    },
    /** Logins wait (the client stays connecting) until the returned function lets them through. */
    holdLogins(): () => void {
      heldLogins ??= []
      return () => {
        const waiting = heldLogins ?? []
        heldLogins = null
        for (const go of waiting) go()
      }
    },
    /** Closes the websocket abruptly (no stream error): Baileys sees 428 connectionClosed. */
    dropConnection(pn?: string): number {
      const conns = liveOf(pn)
      for (const c of conns) c.terminate()
      return conns.length
    },
    /** `<stream:error><conflict type="replaced"/>`: Baileys closes with 440. */
    kickConflict(pn?: string): number {
      const conns = liveOf(pn).filter(c => c.account)
      for (const c of conns) conflict(c)
      return conns.length
    },
    /** Forgets the companion and sends `<stream:error code="401"/>`; later logins get failure 401. */
    unpair(pn?: string): void {
      const account = accountOf(pn)
      account.companion = undefined
      for (const c of liveOf(account.pn)) c.streamError({ tag: 'stream:error', attrs: { code: '401' } })
      world.changed()
    },
    async close(): Promise<void> {
      await media.close()
      for (const c of connections) c.terminate()
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>(resolve => wss.close(() => resolve()))
      http.closeAllConnections()
      await new Promise<void>(resolve => http.close(() => resolve()))
      world.removeAllListeners()
    },
  }
  return api
}
