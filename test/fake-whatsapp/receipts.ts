// Receipts a contact's phone sends besides the automatic delivery receipt: a retry receipt (it could
// not decrypt a message and asks for it again; Baileys then sends it anew, reading it from getMessage
// when its own cache is gone).
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { Contact } from './world.js'

const now = () => String(Math.floor(Date.now() / 1000))

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
