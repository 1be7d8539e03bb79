// Fake Signal devices (the account's phone and the contacts) on libsignal, with in-memory stores.
// A device only ever talks to companions (Baileys clients), addressed by companionAddress().
import { randomInt } from 'node:crypto'
import { ProtocolAddress, SessionBuilder, SessionCipher, type SessionRecord, type SignalStorage } from 'libsignal'
import * as curve from 'libsignal/src/curve.js'
import { proto, encodeWAMessage, unpadRandomMax16, type BinaryNode } from '@whiskeysockets/baileys'
import type { KeyPair } from './certs.js'
import { SenderKeys } from './sender-keys.js'

interface SignalKeyPair {
  pubKey: Buffer
  privKey: Buffer
}

/** What a key-fetch reply (`encrypt/get/key`) carries for one device. Keys are 32 bytes, no 0x05. */
export interface PublicBundle {
  registrationId: number
  identity: Buffer
  signedPreKey: { keyId: number; public: Buffer; signature: Buffer }
  preKey?: { keyId: number; public: Buffer }
}

const prefixed = (key: Uint8Array): Buffer => (key.length === 33 ? Buffer.from(key) : Buffer.concat([Buffer.from([5]), key]))
const newKeyPair = (): SignalKeyPair => {
  const { pubKey, privKey } = curve.generateKeyPair()
  return { pubKey: Buffer.from(pubKey), privKey: Buffer.from(privKey) }
}
const be = (n: number, bytes: number): Buffer => {
  const b = Buffer.alloc(bytes)
  b.writeUIntBE(n, 0, bytes)
  return b
}

/** The Signal address a fake device uses for a companion: LID user + device id, stable per pairing. */
export const companionAddress = (lidUser: string, deviceId: number): ProtocolAddress =>
  new ProtocolAddress(`${lidUser}_1`, deviceId)

export class FakeDevice {
  readonly identity: SignalKeyPair
  readonly registrationId = randomInt(1, 16380)
  private readonly signedPreKey: { keyId: number; keyPair: SignalKeyPair; signature: Buffer }
  private readonly preKeys = new Map<number, SignalKeyPair>()
  private nextPreKeyId = 1
  private readonly sessions = new Map<string, SessionRecord>()
  private readonly storage: SignalStorage
  /** Group sender keys: its own per group, and those other senders distributed to it. */
  readonly senderKeys = new SenderKeys()

  /** identity: an existing curve key pair (the phone uses the account's ADV key), else a new one. */
  constructor(identity?: KeyPair) {
    this.identity = identity
      ? { pubKey: prefixed(identity.public), privKey: Buffer.from(identity.private) }
      : newKeyPair()
    const skp = newKeyPair()
    this.signedPreKey = {
      keyId: 1,
      keyPair: skp,
      signature: Buffer.from(curve.calculateSignature(this.identity.privKey, skp.pubKey)),
    }
    this.storage = {
      loadSession: async id => this.sessions.get(id),
      storeSession: async (id, record) => {
        this.sessions.set(id, record)
      },
      isTrustedIdentity: () => true,
      loadPreKey: async id => this.preKeys.get(Number(id)),
      removePreKey: id => {
        this.preKeys.delete(Number(id))
      },
      loadSignedPreKey: () => this.signedPreKey.keyPair,
      getOurRegistrationId: () => this.registrationId,
      getOurIdentity: () => this.identity,
    }
  }

  /** A bundle with a fresh one-time pre-key, as the server hands it out on a key fetch. */
  takeBundle(): PublicBundle {
    const keyId = this.nextPreKeyId++
    const pair = newKeyPair()
    this.preKeys.set(keyId, pair)
    return {
      registrationId: this.registrationId,
      identity: this.identity.pubKey.subarray(1),
      signedPreKey: {
        keyId: this.signedPreKey.keyId,
        public: this.signedPreKey.keyPair.pubKey.subarray(1),
        signature: this.signedPreKey.signature,
      },
      preKey: { keyId, public: pair.pubKey.subarray(1) },
    }
  }

  hasSession(addr: ProtocolAddress): boolean {
    return this.sessions.has(addr.toString())
  }

  /** Decrypts one `<enc>` from a companion; returns the unpadded proto.Message. */
  async decrypt(addr: ProtocolAddress, type: string, ciphertext: Uint8Array): Promise<proto.Message> {
    const cipher = new SessionCipher(this.storage, addr)
    const padded =
      type === 'pkmsg' ? await cipher.decryptPreKeyWhisperMessage(ciphertext) : await cipher.decryptWhisperMessage(ciphertext)
    return proto.Message.decode(unpadRandomMax16(padded))
  }

  /**
   * Encrypts a message to a companion. Without a session, starts one from the companion's uploaded
   * bundle (`bundle()` is only called then, so a pre-key is consumed only when needed).
   */
  async encrypt(
    addr: ProtocolAddress,
    message: proto.IMessage,
    bundle: () => PublicBundle | undefined,
  ): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Buffer }> {
    if (!this.hasSession(addr)) {
      const b = bundle()
      if (!b?.preKey) throw new Error(`no session with ${addr.toString()} and no uploaded pre-key to start one`)
      await new SessionBuilder(this.storage, addr).initOutgoing({
        registrationId: b.registrationId,
        identityKey: prefixed(b.identity),
        signedPreKey: { keyId: b.signedPreKey.keyId, publicKey: prefixed(b.signedPreKey.public), signature: b.signedPreKey.signature },
        preKey: { keyId: b.preKey.keyId, publicKey: prefixed(b.preKey.public) },
      })
    }
    const { type, body } = await new SessionCipher(this.storage, addr).encrypt(encodeWAMessage(message))
    return { type: type === 3 ? 'pkmsg' : 'msg', ciphertext: Buffer.from(body, 'binary') }
  }
}

/** `<user jid>` content of a key-fetch reply. */
export const bundleNodes = (b: PublicBundle): BinaryNode[] => {
  const nodes: BinaryNode[] = [
    { tag: 'registration', attrs: {}, content: be(b.registrationId, 4) },
    { tag: 'type', attrs: {}, content: Buffer.from([5]) },
    { tag: 'identity', attrs: {}, content: b.identity },
    {
      tag: 'skey',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: be(b.signedPreKey.keyId, 3) },
        { tag: 'value', attrs: {}, content: b.signedPreKey.public },
        { tag: 'signature', attrs: {}, content: b.signedPreKey.signature },
      ],
    },
  ]
  if (b.preKey) {
    nodes.push({
      tag: 'key',
      attrs: {},
      content: [
        { tag: 'id', attrs: {}, content: be(b.preKey.keyId, 3) },
        { tag: 'value', attrs: {}, content: b.preKey.public },
      ],
    })
  }
  return nodes
}
