// QR pairing as the phone and server do it: pair-device refs, the phone's scan (pair-success with
// an ADV identity signed by the account key and HMACed with the QR's adv secret), the companion's
// pair-device-sign, then stream:error 515 so the client restarts and logs in.
import { createHmac, randomBytes, randomInt } from 'node:crypto'
import { Curve, getBinaryNodeChild, proto, type BinaryNode } from '@whiskeysockets/baileys'
import * as curve from 'libsignal/src/curve.js'
import type { FakeConnection } from './connection.js'
import type { Account, World } from './world.js'

const ACCOUNT_SIG_PREFIX = Buffer.from([6, 0])
const DEVICE_SIG_PREFIX = Buffer.from([6, 1])

export interface ParsedQR {
  ref: string
  noiseKey: Buffer
  identityKey: Buffer
  advSecret: Buffer
  platform?: string
}

/** `https://wa.me/settings/linked_devices#ref,noise,identity,adv,platform` (or the bare older form). */
export const parseQR = (qr: string): ParsedQR => {
  const body = qr.includes('#') ? qr.slice(qr.indexOf('#') + 1) : qr
  const [ref, noise, identity, adv, platform] = body.split(',')
  if (!ref || !noise || !identity || !adv) throw new Error(`not a WhatsApp pairing QR: ${qr.slice(0, 40)}…`)
  return {
    ref,
    noiseKey: Buffer.from(noise, 'base64'),
    identityKey: Buffer.from(identity, 'base64'),
    advSecret: Buffer.from(adv, 'base64'),
    platform,
  }
}

export const startPairing = (conn: FakeConnection, identityKey: Buffer): void => {
  const refs = Array.from({ length: 6 }, () => `2@${randomBytes(24).toString('base64')}`)
  conn.pairing = { refs, identityKey }
  conn.send({
    tag: 'iq',
    attrs: { from: 's.whatsapp.net', type: 'set', id: conn.nextId(), xmlns: 'md' },
    content: [
      {
        tag: 'pair-device',
        attrs: {},
        content: refs.map(ref => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref, 'utf-8') })),
      },
    ],
  })
}

export interface ScanOptions {
  /** Account phone number (default: the fake's default account). */
  pn?: string
  /** Account LID user (only used when the account is new). */
  lid?: string
  /** Business name sent in <biz name>, becomes creds.me.name. */
  name?: string
  /** Sign the ADV identity with a key other than the account's (the client must refuse). */
  corruptAccountSignature?: boolean
}

export interface PairResult {
  jid: string
  lid: string
  deviceId: number
}

/**
 * The phone scans `qr`: finds the waiting connection (same noise key, one of its refs), sends
 * pair-success and resolves once the companion's pair-device-sign checked out and 515 was sent.
 */
export const scanQR = (world: World, waiting: Iterable<FakeConnection>, qr: string, account: Account, opts: ScanOptions): Promise<PairResult> => {
  const parsed = parseQR(qr)
  const conn = [...waiting].find(
    c => !c.closed && c.pairing && c.clientStatic?.equals(parsed.noiseKey) && c.pairing.refs.includes(parsed.ref),
  )
  if (!conn?.pairing) throw new Error('no connection is waiting for this QR (expired, closed or already paired)')
  if (!conn.pairing.identityKey.equals(parsed.identityKey)) throw new Error('QR identity key differs from the registration payload')
  return sendPairSuccess(world, conn, parsed.identityKey, parsed.advSecret, account, opts)
}

/** The phone accepted the companion (QR scan or pairing code): pair-success, then wait for its signature. */
export const sendPairSuccess = (
  world: World,
  conn: FakeConnection,
  identityKey: Buffer,
  advSecret: Buffer,
  account: Account,
  opts: ScanOptions,
): Promise<PairResult> => {
  const parsed = { identityKey, advSecret }
  const deviceId = account.nextDeviceId++
  const deviceDetails = Buffer.from(
    proto.ADVDeviceIdentity.encode({
      rawId: randomInt(1, 2 ** 31),
      timestamp: Math.floor(Date.now() / 1000),
      keyIndex: 1,
      accountType: proto.ADVEncryptionType.E2EE,
      deviceType: proto.ADVEncryptionType.E2EE,
    }).finish(),
  )
  const signer = opts.corruptAccountSignature ? Curve.generateKeyPair() : account.adv
  const accountSignature = Curve.sign(signer.private, Buffer.concat([ACCOUNT_SIG_PREFIX, deviceDetails, parsed.identityKey]))
  const signed = proto.ADVSignedDeviceIdentity.encode({
    details: deviceDetails,
    accountSignatureKey: account.adv.public,
    accountSignature,
  }).finish()
  const hmac = createHmac('sha256', parsed.advSecret).update(signed).digest()
  const iqId = conn.nextId()
  const jid = `${account.pn}:${deviceId}@s.whatsapp.net`
  const lid = `${account.lid}:${deviceId}@lid`
  return new Promise<PairResult>((resolve, reject) => {
    if (!conn.pairing) return reject(new Error('connection stopped pairing'))
    conn.pairing.pending = {
      iqId,
      account,
      deviceId,
      deviceDetails,
      resolve: () => resolve({ jid, lid, deviceId }),
      reject,
    }
    const content: BinaryNode[] = [
      { tag: 'device-identity', attrs: {}, content: proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish() },
      { tag: 'platform', attrs: { name: 'android' } },
      { tag: 'device', attrs: { jid, lid } },
    ]
    if (opts.name) content.push({ tag: 'biz', attrs: { name: opts.name } })
    conn.send({
      tag: 'iq',
      attrs: { from: 's.whatsapp.net', type: 'set', id: iqId, t: String(Math.floor(Date.now() / 1000)) },
      content: [{ tag: 'pair-success', attrs: {}, content }],
    })
    world.changed()
  })
}

/** The companion's answer to pair-success. Returns true if it was one. */
export const handlePairDeviceSign = (world: World, conn: FakeConnection, node: BinaryNode): boolean => {
  const pending = conn.pairing?.pending
  if (!pending || node.tag !== 'iq' || node.attrs.id !== pending.iqId) return false
  const identityNode = getBinaryNodeChild(getBinaryNodeChild(node, 'pair-device-sign'), 'device-identity')
  const identityKey = conn.pairing?.identityKey
  if (!identityNode || !(identityNode.content instanceof Uint8Array) || !identityKey || !conn.clientStatic) {
    pending.reject(new Error(`pairing refused by the client: ${node.attrs.type ?? 'no'} reply`))
    return true
  }
  const signedIdentity = proto.ADVSignedDeviceIdentity.decode(identityNode.content)
  const deviceMsg = Buffer.concat([DEVICE_SIG_PREFIX, pending.deviceDetails, identityKey, pending.account.adv.public])
  const sig = signedIdentity.deviceSignature
  // libsignal's verifySignature returns the verdict (it does not throw on a bad signature).
  if (!sig || !curve.verifySignature(Buffer.concat([Buffer.from([5]), identityKey]), deviceMsg, sig)) {
    pending.reject(new Error('companion device signature invalid'))
    conn.streamError({ tag: 'stream:error', attrs: { code: '401' } })
    return true
  }
  pending.account.companion = {
    deviceId: pending.deviceId,
    noiseKey: conn.clientStatic,
    identityKey,
    lidsGiven: new Set(),
  }
  conn.pairing = undefined
  // The server asks the freshly paired client to reconnect and log in.
  setTimeout(() => conn.streamError({ tag: 'stream:error', attrs: { code: '515' } }), 20).unref()
  pending.resolve()
  world.changed()
  return true
}
