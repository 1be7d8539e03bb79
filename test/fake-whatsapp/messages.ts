// Messages between the companion (Baileys) and the fake devices: decrypting what the client
// sends (one <enc> per device), acking it with a delivery receipt, and contacts sending back.
import { randomBytes } from 'node:crypto'
import { getBinaryNodeChild, getBinaryNodeChildren, jidDecode, type BinaryNode, type proto } from '@whiskeysockets/baileys'
import type { FakeConnection } from './connection.js'
import { companionAddress, type FakeDevice } from './signal.js'
import type { Account, Contact, World } from './world.js'
import { deliverOrQueue } from './backlog.js'

const now = () => String(Math.floor(Date.now() / 1000))
export const textOf = (m: proto.IMessage | null | undefined): string =>
  m?.conversation ?? m?.extendedTextMessage?.text ?? ''

/** Every (recipient jid, enc) pair of a <message>: participants/to/enc, or enc directly. */
const encsOf = (node: BinaryNode): Array<{ jid: string; enc: BinaryNode }> => {
  const out: Array<{ jid: string; enc: BinaryNode }> = []
  for (const to of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
    const enc = getBinaryNodeChild(to, 'enc')
    if (enc && to.attrs.jid) out.push({ jid: to.attrs.jid, enc })
  }
  for (const enc of getBinaryNodeChildren(node, 'enc')) out.push({ jid: node.attrs.to ?? '', enc })
  return out
}

export const handleClientMessage = async (world: World, conn: FakeConnection, node: BinaryNode): Promise<void> => {
  const account = conn.account
  const deviceId = conn.deviceId
  const id = node.attrs.id ?? ''
  const to = node.attrs.to ?? ''
  if (!account || deviceId === undefined) return
  const from = `${account.pn}:${deviceId}@s.whatsapp.net`
  const addr = companionAddress(account.lid, deviceId)
  for (const { jid, enc } of encsOf(node)) {
    const decoded = jidDecode(jid)
    if (!decoded || !(enc.content instanceof Uint8Array)) continue
    const type = enc.attrs.type === 'pkmsg' ? 'pkmsg' : 'msg'
    const isPhone = decoded.user === account.pn || decoded.user === account.lid
    const contact = isPhone ? undefined : world.contactByUser(decoded.user)
    const device: FakeDevice | undefined = isPhone && (decoded.device ?? 0) === 0 ? account.phone : contact?.device
    if (!device) continue
    try {
      const message = await device.decrypt(addr, type, enc.content)
      if (isPhone) {
        const inner = message.deviceSentMessage
        world.deviceSent.push({ from, to: inner?.destinationJid ?? to, text: textOf(inner?.message), type, id, message: inner?.message ?? undefined })
      } else if (contact) {
        world.received.push({ from, to: `${contact.pn}@s.whatsapp.net`, text: textOf(message), type, id, message })
      }
    } catch (err) {
      world.decryptErrors.push({ id, to: jid, error: err instanceof Error ? err.message : String(err) })
    }
  }
  ackClientMessage(world, conn, id, to, [{ from: to }])
}

/**
 * Answers a message the companion sent as the server does (world.messageAcks: ack, nack 479 or
 * nothing); after an ack, the recipients' phones confirm delivery a moment later (`receipts`: the
 * attributes of each delivery receipt besides id and t).
 */
export const ackClientMessage = (world: World, conn: FakeConnection, id: string, to: string, receipts: Array<Record<string, string>>): void => {
  if (world.messageAcks === 'error') conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now(), error: '479' } })
  if (world.messageAcks !== 'ack') return world.changed()
  conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now() } })
  setTimeout(() => {
    for (const attrs of receipts) conn.send({ tag: 'receipt', attrs: { ...attrs, id, t: now() } })
  }, 5).unref()
  world.changed()
}

export interface SentByContact {
  id: string
  /** How it was encrypted to the companion; 'queued' when it waits in the offline backlog. */
  type: 'pkmsg' | 'msg' | 'skmsg' | 'queued'
}

/** The stanza `type` of a message: text or media. */
export const stanzaType = (message: proto.IMessage): 'text' | 'media' =>
  message.conversation || message.extendedTextMessage ? 'text' : 'media'

/**
 * Encrypts `message` from the contact to the account's companion and delivers it, or queues it
 * (encrypted, as the server keeps it) when the account has no live connection.
 */
export const deliverFromContact = async (
  world: World,
  account: Account,
  contact: Contact,
  message: proto.IMessage,
  id: string,
): Promise<SentByContact> => {
  const companion = account.companion
  if (!companion) throw new Error(`account ${account.pn} is not paired`)
  const { type, ciphertext } = await contact.device.encrypt(companionAddress(account.lid, companion.deviceId), message, () =>
    world.takeUploadedBundle(companion),
  )
  const node: BinaryNode = {
    tag: 'message',
    attrs: { from: `${contact.pn}@s.whatsapp.net`, id, t: now(), type: stanzaType(message), notify: contact.name },
    content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
  }
  return { id, type: deliverOrQueue(world, account, node) === 'queued' ? 'queued' : type }
}

export const newMessageId = (): string => `3A${randomBytes(9).toString('hex').toUpperCase()}`
