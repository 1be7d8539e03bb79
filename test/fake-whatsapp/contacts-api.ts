// The control API's contact side: contacts and groups, and what their phones send to an account's
// companion. Everything a contact sends while the account has no live connection waits in the
// account's offline backlog (backlog.ts) and arrives at its next login, marked offline.
import type { proto } from '@whiskeysockets/baileys'
import { deliverOrQueue } from './backlog.js'
import { contactToGroup, createGroup, groupOf, type GroupOptions } from './groups.js'
import { deliverFromContact, newMessageId, type SentByContact } from './messages.js'
import { retryReceiptNode } from './receipts.js'
import { userOf, type Account, type Contact, type World } from './world.js'

export interface GroupInfo {
  jid: string
  subject: string
  /** The account's phone number user. */
  account: string
  /** Contacts' phone number users. */
  participants: string[]
  /** Members named by phone number or by LID on the wire. */
  addressingMode: 'pn' | 'lid'
}

const now = () => String(Math.floor(Date.now() / 1000))
const asMessage = (m: string | proto.IMessage): proto.IMessage => (typeof m === 'string' ? { conversation: m } : m)

export function contactControls(world: World, accountOf: (pn?: string) => Account) {
  const contactOf = (pn: string): Contact => {
    const contact = world.contacts.get(userOf(pn))
    if (!contact) throw new Error(`unknown contact ${pn}`)
    return contact
  }
  const info = (g: GroupInfo): GroupInfo => ({
    jid: g.jid,
    subject: g.subject,
    account: g.account,
    participants: [...g.participants],
    addressingMode: g.addressingMode,
  })

  return {
    addContact(contact: { pn: string; lid: string; name?: string }): { jid: string; lid: string } {
      const c = world.addContact(contact.pn, contact.lid, contact.name)
      world.changed()
      return { jid: `${c.pn}@s.whatsapp.net`, lid: `${c.lid}@lid` }
    },
    /** The contact sends `text` to the account's companion (opts.to, default account). */
    async contactSend(pn: string, text: string, opts: { to?: string } = {}): Promise<SentByContact> {
      return deliverFromContact(world, accountOf(opts.to), contactOf(pn), { conversation: text }, newMessageId())
    },
    /** The contact sends any message (location, a media message made with hostMedia()...). */
    async contactSendMessage(pn: string, message: proto.IMessage, opts: { to?: string } = {}): Promise<SentByContact> {
      return deliverFromContact(world, accountOf(opts.to), contactOf(pn), message, newMessageId())
    },
    /**
     * The contact's phone reports a message the companion sent it as read or played (a delivery
     * receipt already goes out automatically for every message).
     */
    contactReceipt(pn: string, id: string, type: 'read' | 'played', opts: { to?: string } = {}): void {
      deliverOrQueue(world, accountOf(opts.to), { tag: 'receipt', attrs: { from: `${userOf(pn)}@s.whatsapp.net`, id, t: now(), type } })
    },
    /** The contact could not decrypt message `id` and asks the companion to send it again. */
    contactRetry(pn: string, id: string, opts: { to?: string; count?: number } = {}): void {
      deliverOrQueue(world, accountOf(opts.to), retryReceiptNode(contactOf(pn), id, opts.count))
    },
    /** A group with the account (opts.to, default account) and these contacts as members. */
    addGroup(options: GroupOptions): GroupInfo {
      return info(createGroup(world, accountOf(options.to), options))
    },
    /** Every group of the fake. */
    groups(): GroupInfo[] {
      return [...world.groups.values()].map(info)
    },
    /**
     * The contact (a member) sends a message to the group: `text` or any proto.IMessage. The stanza
     * carries `from=<group> participant=<contact>`, its sender key the first time, then an skmsg.
     */
    async contactSendGroupMessage(pn: string, groupJid: string, message: string | proto.IMessage): Promise<SentByContact> {
      return contactToGroup(world, groupOf(world, groupJid), contactOf(pn), asMessage(message), newMessageId())
    },
    /** Stanzas waiting in the account's offline backlog (delivered at its next login). */
    backlog(pn?: string): number {
      return accountOf(pn).backlog.length
    },
    /** Ids of messages delivered but not receipted yet (tracked with redeliverUnreceipted). */
    unreceipted(pn?: string): string[] {
      return [...accountOf(pn).unreceipted.keys()]
    },
  }
}
