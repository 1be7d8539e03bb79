// One client websocket: framing, the Noise handshake, then binary nodes in both directions.
// Incoming websocket messages are processed strictly in order through a promise chain:
// decodeBinaryNode is async, and two interleaved messages would desynchronise the GCM counter.
import type { WebSocket, RawData } from 'ws'
import { decodeBinaryNode, encodeBinaryNode, proto, type BinaryNode } from '@whiskeysockets/baileys'
import { encodeFrame, FrameReader, ServerHandshake, type HandshakeResult, type Transport } from './noise.js'
import type { KeyPair } from './certs.js'
import type { Account } from './world.js'
import type { LinkCodeState } from './link-code.js'

export interface ConnectionHandlers {
  onHandshake(conn: FakeConnection, result: HandshakeResult): Promise<void> | void
  onNode(conn: FakeConnection, node: BinaryNode): Promise<void> | void
  onClose(conn: FakeConnection): void
  onError(conn: FakeConnection, err: unknown): void
}

export interface PairingState {
  refs: string[]
  /** The companion's Signal identity from the registration payload (eIdent). */
  identityKey: Buffer
  /** Set once the phone scanned: the pair-success iq id and what it promised. */
  pending?: {
    iqId: string
    account: Account
    deviceId: number
    deviceDetails: Buffer
    resolve: () => void
    reject: (err: Error) => void
  }
}

let nextConnId = 1

export class FakeConnection {
  readonly id = nextConnId++
  private readonly reader = new FrameReader()
  private readonly handshake: ServerHandshake
  private transport?: Transport
  private chain: Promise<void> = Promise.resolve()
  private tag = 1
  closed = false
  clientStatic?: Buffer
  payload?: proto.ClientPayload
  /** Set after a successful login. */
  account?: Account
  deviceId?: number
  pairing?: PairingState
  /** Pairing by code in progress (link-code.ts). */
  linkCode?: LinkCodeState

  constructor(
    private readonly ws: WebSocket,
    serverStatic: KeyPair,
    certChain: Uint8Array,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.handshake = new ServerHandshake(serverStatic, certChain)
    ws.on('message', (data: RawData) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data)
      this.chain = this.chain
        .then(() => this.onData(buf))
        .catch(err => {
          this.handlers.onError(this, err)
          this.terminate()
        })
    })
    ws.on('close', () => {
      this.closed = true
      this.handlers.onClose(this)
    })
    ws.on('error', () => this.terminate())
  }

  private async onData(data: Buffer): Promise<void> {
    for (const frame of this.reader.push(data)) {
      if (this.closed) return
      if (this.transport) {
        const node = await decodeBinaryNode(this.transport.decrypt(frame))
        await this.handlers.onNode(this, node)
      } else if (!this.payload && !this.handshakeStarted) {
        this.handshakeStarted = true
        this.sendRaw(this.handshake.hello(this.reader.intro, frame))
      } else {
        const result = this.handshake.finish(frame)
        this.clientStatic = result.clientStatic
        this.payload = result.payload
        this.transport = result.transport
        await this.handlers.onHandshake(this, result)
      }
    }
  }
  private handshakeStarted = false

  private sendRaw(data: Uint8Array): void {
    if (this.closed) return
    this.ws.send(encodeFrame(data))
  }

  /** Encrypts and sends a node; encryption happens synchronously so the write counter stays in order. */
  send(node: BinaryNode): void {
    if (!this.transport || this.closed) return
    this.sendRaw(this.transport.encrypt(encodeBinaryNode(node)))
  }

  /** A fresh stanza id for server-initiated iqs. */
  nextId(): string {
    return `fake-${this.id}-${this.tag++}`
  }

  /** `<stream:error>` then close, as the server does for 515/401/conflict. */
  streamError(node: BinaryNode): void {
    this.send(node)
    // Baileys closes on its own when it reads the stream error; close anyway if it doesn't.
    setTimeout(() => this.close(), 200).unref()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.ws.close()
  }

  /** Abrupt drop, no close frame: what a network failure looks like. */
  terminate(): void {
    this.closed = true
    this.ws.terminate()
  }
}
