// Groups: a group belongs to one account (its member on this fake) and has contacts as the other
// members. Messages use sender keys as on real WhatsApp:
//   - a contact writing to the group sends `<message from="<group>" participant="<contact>">` with,
//     the first time towards that companion, a pkmsg/msg carrying its SenderKeyDistributionMessage,
//     then an skmsg encrypted with its group sender key;
//   - the companion writing to the group first fetches the metadata (`w:g2 get <query>`) and the
//     members' devices (usync), then sends one skmsg plus, to each device that lacks its sender key,
//     a pkmsg/msg with the distribution message. Each member contact decrypts the skmsg (one
//     world.received entry per member, `to` = the group) and sends a delivery receipt.
import { getBinaryNodeChild, getBinaryNodeChildren, jidDecode, type BinaryNode, type proto } from '@whiskeysockets/baileys'
import type { FakeConnection } from './connection.js'
import type { IqHandler } from './iq-router.js'
import { deliverOrQueue } from './backlog.js'
import { ackClientMessage, stanzaType, textOf, type SentByContact } from './messages.js'
import { companionAddress, type FakeDevice } from './signal.js'
import { userOf, type Account, type Contact, type World } from './world.js'

export interface Group {
  /** `<id>@g.us` */
  jid: string
  subject: string
  /** The account (phone number user) that is a member, the creator and admin. */
  account: string
  /** Contacts' phone number users. */
  participants: string[]
  creation: number
  /** How members are named on the wire: phone numbers (`pn`, default) or LIDs (`lid`, most groups today). */
  addressingMode: 'pn' | 'lid'
  /** `<contact pn>|<companion address>` pairs that already got the contact's sender key. */
  distributed: Set<string>
}

export interface GroupOptions {
  subject: string
  /** Phone numbers of contacts already added with addContact. */
  participants: string[]
  /** The member account (default: the default account). */
  to?: string
  /** The group id's digits (default: 120363 followed by a counter). */
  id?: string
  /** Members named by phone number (default) or by LID on the wire: metadata, participant attributes. */
  addressingMode?: 'pn' | 'lid'
}

const now = () => String(Math.floor(Date.now() / 1000))
const pnJid = (user: string) => `${user}@s.whatsapp.net`

export function createGroup(world: World, account: Account, options: GroupOptions): Group {
  const participants = options.participants.map(pn => {
    const contact = world.contacts.get(userOf(pn))
    if (!contact) throw new Error(`unknown contact ${pn}: addContact first`)
    return contact.pn
  })
  const id = options.id ? userOf(options.id) : `120363${String(world.groups.size + 1).padStart(12, '0')}`
  const jid = `${id}@g.us`
  if (world.groups.has(jid)) throw new Error(`group ${jid} already exists`)
  const group: Group = {
    jid,
    subject: options.subject,
    account: account.pn,
    participants,
    creation: Number(now()),
    addressingMode: options.addressingMode ?? 'pn',
    distributed: new Set(),
  }
  world.groups.set(jid, group)
  world.changed()
  return group
}

export function groupOf(world: World, jid: string): Group {
  const group = world.groups.get(jid.includes('@') ? jid : `${jid}@g.us`)
  if (!group) throw new Error(`unknown group ${jid}`)
  return group
}

/** How a member (account or contact) is named in this group, and its other name as an attribute. */
const memberAttrs = (group: Group, member: { pn: string; lid: string } | undefined, pn: string): Record<string, string> => {
  if (!member) return { jid: pnJid(pn) }
  return group.addressingMode === 'lid'
    ? { jid: `${member.lid}@lid`, phone_number: pnJid(member.pn) }
    : { jid: pnJid(member.pn), lid: `${member.lid}@lid` }
}

/** The `<group>` node of a metadata reply: members as the addressing mode names them, with their other JID. */
const metadataNode = (world: World, group: Group): BinaryNode => {
  const members: BinaryNode[] = [
    { tag: 'participant', attrs: { ...memberAttrs(group, world.accounts.get(group.account), group.account), type: 'superadmin' } },
  ]
  for (const pn of group.participants) members.push({ tag: 'participant', attrs: memberAttrs(group, world.contacts.get(pn), pn) })
  return {
    tag: 'group',
    attrs: {
      id: jidDecode(group.jid)?.user ?? '',
      subject: group.subject,
      s_t: String(group.creation),
      s_o: members[0]?.attrs.jid ?? '',
      creation: String(group.creation),
      creator: members[0]?.attrs.jid ?? '',
      size: String(members.length),
      addressing_mode: group.addressingMode,
    },
    content: members,
  }
}

/** w:g2 iqs: one group's metadata (`<query>`, to = the group) and the groups the account is in. */
export const groupIqHandlers: Record<string, IqHandler> = {
  'w:g2/get/query': (world, _conn, iq) => {
    const group = world.groups.get(iq.attrs.to ?? '')
    // Baileys turns an <error> in the result into a Boom with this code.
    return [group ? metadataNode(world, group) : { tag: 'error', attrs: { code: '404', text: 'item-not-found' } }]
  },
  'w:g2/get/participating': (world, conn) => {
    const mine = [...world.groups.values()].filter(g => g.account === conn.account?.pn)
    return [{ tag: 'groups', attrs: {}, content: mine.map(g => metadataNode(world, g)) }]
  },
}

/**
 * The contact sends `message` to the group: delivered to the member account's companion (or kept
 * in its offline backlog), with the contact's sender key the first time.
 */
export async function contactToGroup(world: World, group: Group, contact: Contact, message: proto.IMessage, id: string): Promise<SentByContact> {
  if (!group.participants.includes(contact.pn)) throw new Error(`${contact.pn} is not a member of ${group.jid}`)
  const account = world.accounts.get(group.account)
  const companion = account?.companion
  if (!account || !companion) throw new Error(`account ${group.account} is not paired`)
  const addr = companionAddress(account.lid, companion.deviceId)
  const content: BinaryNode[] = []
  const distributedTo = `${contact.pn}|${addr.toString()}`
  if (!group.distributed.has(distributedTo)) {
    const skdm: proto.IMessage = {
      senderKeyDistributionMessage: { groupId: group.jid, axolotlSenderKeyDistributionMessage: await contact.device.senderKeys.distribution(group.jid) },
    }
    const { type, ciphertext } = await contact.device.encrypt(addr, skdm, () => world.takeUploadedBundle(companion))
    content.push({ tag: 'enc', attrs: { v: '2', type }, content: ciphertext })
    group.distributed.add(distributedTo)
  }
  content.push({ tag: 'enc', attrs: { v: '2', type: 'skmsg' }, content: await contact.device.senderKeys.encrypt(group.jid, message) })
  const node: BinaryNode = {
    tag: 'message',
    attrs: {
      from: group.jid,
      ...(group.addressingMode === 'lid'
        ? { participant: `${contact.lid}@lid`, participant_pn: pnJid(contact.pn) }
        : { participant: pnJid(contact.pn), participant_lid: `${contact.lid}@lid` }),
      addressing_mode: group.addressingMode,
      id,
      t: now(),
      type: stanzaType(message),
      notify: contact.name,
    },
    content,
  }
  return { id, type: deliverOrQueue(world, account, node) === 'queued' ? 'queued' : 'skmsg' }
}

/** The fake device behind a `<to jid>` of the companion's group message: a contact or the account's phone. */
const deviceOf = (world: World, account: Account, jid: string): FakeDevice | undefined => {
  const decoded = jidDecode(jid)
  if (!decoded) return undefined
  if (decoded.user === account.pn || decoded.user === account.lid) return (decoded.device ?? 0) === 0 ? account.phone : undefined
  return world.contactByUser(decoded.user)?.device
}

/** A message the companion sent to a group: sender keys distributed, the skmsg decrypted by every member. */
export async function handleClientGroupMessage(world: World, conn: FakeConnection, node: BinaryNode): Promise<void> {
  const account = conn.account
  const deviceId = conn.deviceId
  const id = node.attrs.id ?? ''
  const to = node.attrs.to ?? ''
  if (!account || deviceId === undefined) return
  const group = world.groups.get(to)
  if (!group || group.account !== account.pn) {
    conn.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now(), error: '404' } })
    return world.changed()
  }
  const from = `${account.pn}:${deviceId}@s.whatsapp.net`
  const addr = companionAddress(account.lid, deviceId)
  const fail = (jid: string, err: unknown) =>
    world.decryptErrors.push({ id, to: jid, error: err instanceof Error ? err.message : String(err) })
  for (const recipient of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
    const enc = getBinaryNodeChild(recipient, 'enc')
    const device = deviceOf(world, account, recipient.attrs.jid ?? '')
    if (!device || !(enc?.content instanceof Uint8Array)) continue
    try {
      const message = await device.decrypt(addr, enc.attrs.type ?? 'msg', enc.content)
      const skdm = message.senderKeyDistributionMessage?.axolotlSenderKeyDistributionMessage
      if (skdm) await device.senderKeys.process(group.jid, addr, skdm)
    } catch (err) {
      fail(recipient.attrs.jid ?? '', err)
    }
  }
  const skmsg = getBinaryNodeChildren(node, 'enc').find(e => e.attrs.type === 'skmsg')?.content
  const delivered: Array<Record<string, string>> = []
  if (skmsg instanceof Uint8Array) {
    try {
      const message = await account.phone.senderKeys.decrypt(group.jid, addr, skmsg)
      world.deviceSent.push({ from, to: group.jid, text: textOf(message), type: 'skmsg', id, message })
    } catch {
      // The phone only gets the sender key when Baileys sends it one; its copy is optional.
    }
    for (const pn of group.participants) {
      const contact = world.contacts.get(pn)
      if (!contact) continue
      try {
        const message = await contact.device.senderKeys.decrypt(group.jid, addr, skmsg)
        world.received.push({ from, to: group.jid, member: pnJid(pn), text: textOf(message), type: 'skmsg', id, message })
        delivered.push({ from: group.jid, participant: group.addressingMode === 'lid' ? `${contact.lid}@lid` : pnJid(pn) })
      } catch (err) {
        fail(pnJid(pn), err)
      }
    }
  }
  ackClientMessage(world, conn, id, to, delivered)
}
