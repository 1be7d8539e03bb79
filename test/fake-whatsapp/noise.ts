// Server side of WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake and the 3-byte length framing.
// Mirrors Baileys' Utils/noise-handler.js from the responder's point of view.
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto'
import { Curve, proto } from '@whiskeysockets/baileys'
import type { KeyPair } from './certs.js'

const NOISE_MODE = 'Noise_XX_25519_AESGCM_SHA256\0\0\0\0'
const WA_INTRO = Buffer.from([0x57, 0x41, 6, 3])

const iv = (counter: number): Buffer => {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(counter, 8)
  return b
}
const gcmEncrypt = (key: Buffer, counter: number, aad: Buffer, plaintext: Uint8Array): Buffer => {
  const c = createCipheriv('aes-256-gcm', key, iv(counter))
  c.setAAD(aad)
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])
}
const gcmDecrypt = (key: Buffer, counter: number, aad: Buffer, ciphertext: Uint8Array): Buffer => {
  const ct = Buffer.from(ciphertext)
  const d = createDecipheriv('aes-256-gcm', key, iv(counter))
  d.setAAD(aad)
  d.setAuthTag(ct.subarray(ct.length - 16))
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()])
}
const hkdf64 = (ikm: Uint8Array, salt: Buffer): [Buffer, Buffer] => {
  const out = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.alloc(0), 64))
  return [out.subarray(0, 32), out.subarray(32)]
}

/** Splits the byte stream into frames; strips the client's intro header (first frame only). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  private introSeen = false
  /** The 4-byte WA header the client sent, needed for the handshake hash. */
  intro: Buffer = WA_INTRO

  push(data: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data])
    if (!this.introSeen) {
      if (this.buf.length >= 2 && this.buf.subarray(0, 2).toString() === 'ED') {
        // "ED",0,1,len24,routingInfo then the WA header: only after <edge_routing>, which we never send
        if (this.buf.length < 7) return []
        const len = this.buf.readUIntBE(4, 3)
        if (this.buf.length < 7 + len + 4) return []
        this.intro = Buffer.from(this.buf.subarray(7 + len, 7 + len + 4))
        this.buf = this.buf.subarray(7 + len + 4)
      } else {
        if (this.buf.length < 4) return []
        this.intro = Buffer.from(this.buf.subarray(0, 4))
        this.buf = this.buf.subarray(4)
      }
      this.introSeen = true
    }
    const frames: Buffer[] = []
    while (this.buf.length >= 3) {
      const size = this.buf.readUIntBE(0, 3)
      if (this.buf.length < size + 3) break
      frames.push(Buffer.from(this.buf.subarray(3, size + 3)))
      this.buf = this.buf.subarray(size + 3)
    }
    return frames
  }
}

export const encodeFrame = (data: Uint8Array): Buffer => {
  const frame = Buffer.alloc(3 + data.length)
  frame.writeUIntBE(data.length, 0, 3)
  frame.set(data, 3)
  return frame
}

export interface Transport {
  encrypt(plaintext: Uint8Array): Buffer
  decrypt(ciphertext: Uint8Array): Buffer
}

export interface HandshakeResult {
  /** The client's long-term noise key (creds.noiseKey.public): its identity on the wire. */
  clientStatic: Buffer
  payload: proto.ClientPayload
  transport: Transport
}

/** Responder state for one connection. */
export class ServerHandshake {
  private h: Buffer
  private ck: Buffer
  private k: Buffer
  private n = 0
  private readonly eph: KeyPair = Curve.generateKeyPair()

  constructor(
    private readonly serverStatic: KeyPair,
    private readonly certChain: Uint8Array,
  ) {
    const mode = Buffer.from(NOISE_MODE)
    this.h = mode.length === 32 ? mode : createHash('sha256').update(mode).digest()
    this.ck = this.h
    this.k = this.h
  }

  private mixHash(data: Uint8Array): void {
    this.h = createHash('sha256').update(this.h).update(data).digest()
  }
  private mixKey(ikm: Uint8Array): void {
    ;[this.ck, this.k] = hkdf64(ikm, this.ck)
    this.n = 0
  }
  private encrypt(plaintext: Uint8Array): Buffer {
    const ct = gcmEncrypt(this.k, this.n++, this.h, plaintext)
    this.mixHash(ct)
    return ct
  }
  private decrypt(ciphertext: Uint8Array): Buffer {
    const pt = gcmDecrypt(this.k, this.n++, this.h, ciphertext)
    this.mixHash(ciphertext)
    return pt
  }

  /** Consumes the clientHello frame, returns the serverHello frame body. */
  hello(intro: Buffer, frame: Buffer): Buffer {
    const clientEph = proto.HandshakeMessage.decode(frame).clientHello?.ephemeral
    if (!clientEph || clientEph.length !== 32) throw new Error('bad clientHello')
    this.clientEph = Buffer.from(clientEph)
    this.mixHash(intro)
    this.mixHash(clientEph)
    this.mixHash(this.eph.public)
    this.mixKey(Curve.sharedKey(this.eph.private, this.clientEph))
    const encStatic = this.encrypt(this.serverStatic.public)
    this.mixKey(Curve.sharedKey(this.serverStatic.private, this.clientEph))
    const encPayload = this.encrypt(this.certChain)
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: this.eph.public, static: encStatic, payload: encPayload },
      }).finish(),
    )
  }
  private clientEph: Buffer = Buffer.alloc(0)

  /** Consumes the clientFinish frame: the client's static key, its ClientPayload, transport keys. */
  finish(frame: Buffer): HandshakeResult {
    const fin = proto.HandshakeMessage.decode(frame).clientFinish
    if (!fin?.static || !fin.payload) throw new Error('bad clientFinish')
    const clientStatic = this.decrypt(fin.static)
    this.mixKey(Curve.sharedKey(this.eph.private, clientStatic))
    const payload = proto.ClientPayload.decode(this.decrypt(fin.payload))
    // The client writes with the first half, the server with the second.
    const [clientKey, serverKey] = hkdf64(new Uint8Array(0), this.ck)
    let readCounter = 0
    let writeCounter = 0
    const empty = Buffer.alloc(0)
    return {
      clientStatic,
      payload,
      transport: {
        encrypt: pt => gcmEncrypt(serverKey, writeCounter++, empty, pt),
        decrypt: ct => gcmDecrypt(clientKey, readCounter++, empty, ct),
      },
    }
  }
}
