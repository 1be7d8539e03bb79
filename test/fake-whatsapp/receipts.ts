// What a contact's phone sends besides text: any message (media, location...) encrypted to the
// companion, and a retry receipt (it could not decrypt a message and asks for it again; Baileys then
// sends it anew, reading it from getMessage when its own cache is gone).
import type { BinaryNode, proto } from '@whiskeysockets/baileys'
import type { FakeConnection } from './connection.js'
import { companionAddress } from './signal.js'
import type { Account, Contact, World } from './world.js'

const now = () => String(Math.floor(Date.now() / 1000))

/** Encrypts `message` from the contact to the account's companion and delivers it on `conn`. */
export async function deliverMessageFromContact(
  world: World,
  conn: FakeConnection,
  account: Account,
  contact: Contact,
  message: proto.IMessage,
  id: string,
): Promise<'pkmsg' | 'msg'> {
  const companion = account.companion
  if (!companion) throw new Error(`account ${account.pn} is not paired`)
  const { type, ciphertext } = await contact.device.encrypt(companionAddress(account.lid, companion.deviceId), message, () =>
    world.takeUploadedBundle(companion),
  )
  const media = !message.conversation && !message.extendedTextMessage
  conn.send({
    tag: 'message',
    attrs: { from: `${contact.pn}@s.whatsapp.net`, id, t: now(), type: media ? 'media' : 'text', notify: contact.name },
    content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
  })
  world.changed()
  return type
}

/** The contact's retry receipt for a message the companion sent it. */
export function retryReceiptNode(contact: Contact, id: string, count = 1): BinaryNode {
  const registration = Buffer.alloc(4)
  registration.writeUInt32BE(contact.device.registrationId)
  return {
    tag: 'receipt',
    attrs: { from: `${contact.pn}@s.whatsapp.net`, id, t: now(), type: 'retry' },
    content: [
      { tag: 'retry', attrs: { count: String(count), id, t: now(), v: '1' } },
      { tag: 'registration', attrs: {}, content: registration },
    ],
  }
}
