// Pairing by code (Baileys requestPairingCode): the companion sends link_code_companion_reg
// companion_hello with its ephemeral key wrapped under the code; the phone (enterPairingCode)
// unwraps it, answers with its own wrapped ephemeral key and identity (primary_hello
// notification); the companion sends companion_finish with its identity encrypted to the shared
// key; both sides derive the ADV secret, and the rest is the QR flow's pair-success.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { Curve, derivePairingCodeKey, getBinaryNodeChild, getBinaryNodeChildBuffer, type BinaryNode } from '@whiskeysockets/baileys'
import type { FakeConnection } from './connection.js'
import { sendPairSuccess, type PairResult, type ScanOptions } from './pairing.js'
import type { Account, World } from './world.js'

export interface LinkCodeState {
  /** The companion's claimed phone number JID. */
  jid: string
  wrappedCompanionEphemeral: Buffer
  ref: string
  /** Set once the phone entered the code. */
  phone?: {
    ephemeral: { private: Uint8Array; public: Uint8Array }
    companionEphemeral: Buffer
    account: Account
    opts: ScanOptions
    resolve: (r: Promise<PairResult>) => void
    reject: (err: Error) => void
  }
}

const ctr = (key: Uint8Array, iv: Buffer, data: Buffer): Buffer => {
  const c = createCipheriv('aes-256-ctr', key, iv)
  return Buffer.concat([c.update(data), c.final()])
}
const hkdf32 = (ikm: Uint8Array, salt: Uint8Array, info: string): Buffer =>
  Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), 32))
const child = (node: BinaryNode | undefined, tag: string): Buffer => {
  const b = getBinaryNodeChildBuffer(node, tag)
  if (!b) throw new Error(`link code: missing <${tag}>`)
  return Buffer.from(b)
}

/** companion_hello / companion_finish iqs. Returns true if the iq was one of them. */
export const handleLinkCodeIq = (world: World, conn: FakeConnection, iq: BinaryNode): boolean => {
  const reg = getBinaryNodeChild(iq, 'link_code_companion_reg')
  if (!reg) return false
  const reply = (content?: BinaryNode[]) =>
    conn.send({ tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: iq.attrs.id ?? '' }, ...(content ? { content } : {}) })
  if (reg.attrs.stage === 'companion_hello') {
    if (!conn.clientStatic?.equals(child(reg, 'companion_server_auth_key_pub'))) throw new Error('link code: noise key mismatch')
    const ref = randomBytes(16).toString('hex')
    conn.linkCode = { jid: reg.attrs.jid ?? '', wrappedCompanionEphemeral: child(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub'), ref }
    reply([{ tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(ref) }] }])
    world.changed()
    return true
  }
  if (reg.attrs.stage === 'companion_finish') {
    reply()
    const phone = conn.linkCode?.phone
    const identityKey = conn.pairing?.identityKey
    if (!phone || !identityKey) throw new Error('link code: companion_finish before the phone entered the code')
    const wrapped = child(reg, 'link_code_pairing_wrapped_key_bundle')
    const shared = Curve.sharedKey(phone.ephemeral.private, phone.companionEphemeral)
    const key = hkdf32(shared, wrapped.subarray(0, 32), 'link_code_pairing_key_bundle_encryption_key')
    const d = createDecipheriv('aes-256-gcm', key, wrapped.subarray(32, 44))
    d.setAAD(Buffer.alloc(0))
    d.setAuthTag(wrapped.subarray(wrapped.length - 16))
    const bundle = Buffer.concat([d.update(wrapped.subarray(44, wrapped.length - 16)), d.final()])
    const companionIdentity = bundle.subarray(0, 32)
    const random = bundle.subarray(64, 96)
    if (!companionIdentity.equals(identityKey) || !bundle.subarray(32, 64).equals(Buffer.from(phone.account.adv.public))) {
      throw new Error('link code: key bundle does not match the registration')
    }
    const identityShared = Curve.sharedKey(phone.account.adv.private, companionIdentity)
    const advSecret = hkdf32(Buffer.concat([shared, identityShared, random]), Buffer.alloc(0), 'adv_secret')
    conn.linkCode = undefined
    phone.resolve(sendPairSuccess(world, conn, identityKey, advSecret, phone.account, phone.opts))
    return true
  }
  return false
}

/** The phone enters `code`: sends primary_hello; resolves when pairing completed (like scanQR). */
export const enterPairingCode = async (
  world: World,
  waiting: Iterable<FakeConnection>,
  code: string,
  account: Account,
  opts: ScanOptions,
): Promise<PairResult> => {
  const wantedJid = `${account.pn}@s.whatsapp.net`
  const conn = [...waiting].find(c => !c.closed && c.linkCode && !c.linkCode.phone && c.linkCode.jid === wantedJid)
  const state = conn?.linkCode
  if (!conn || !state) throw new Error(`no connection requested a pairing code for ${wantedJid}`)
  const wrapped = state.wrappedCompanionEphemeral
  const companionEphemeral = ctr(await derivePairingCodeKey(code.replace(/-/g, ''), wrapped.subarray(0, 32)), wrapped.subarray(32, 48), wrapped.subarray(48, 80))
  const ephemeral = Curve.generateKeyPair()
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const wrappedPrimary = Buffer.concat([salt, iv, ctr(await derivePairingCodeKey(code.replace(/-/g, ''), salt), iv, Buffer.from(ephemeral.public))])
  const result = new Promise<Promise<PairResult>>((resolve, reject) => {
    state.phone = { ephemeral, companionEphemeral, account, opts, resolve, reject }
  })
  conn.send({
    tag: 'notification',
    attrs: { from: 's.whatsapp.net', type: 'link_code_companion_reg', id: conn.nextId(), t: String(Math.floor(Date.now() / 1000)) },
    content: [
      {
        tag: 'link_code_companion_reg',
        attrs: { stage: 'primary_hello' },
        content: [
          { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(state.ref) },
          { tag: 'primary_identity_pub', attrs: {}, content: Buffer.from(account.adv.public) },
          { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimary },
        ],
      },
    ],
  })
  return result.then(p => p)
}
