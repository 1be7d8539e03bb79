// From a validated send request to what Baileys sends: pure, no I/O. Media arrives prepared
// (media/input.ts), quoted and target messages arrive from the store.
import type { AnyMessageContent, WAMessage, WAMessageKey } from '@whiskeysockets/baileys'
import type { ContentSend, TargetSend } from '../schemas/send.js'
import type { PreparedMedia } from './media/input.js'

/** vCard 3.0 text values escape backslash, comma, semicolon and newlines. */
const vcardText = (s: string) => s.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/;/g, '\\;').replace(/\r?\n/g, '\\n')

export function vcard(contact: { name: string; phone: string; organization?: string }): string {
  const digits = contact.phone.replace(/[^0-9]/g, '')
  const lines = ['BEGIN:VCARD', 'VERSION:3.0', `FN:${vcardText(contact.name)}`]
  if (contact.organization) lines.push(`ORG:${vcardText(contact.organization)}`)
  lines.push(`TEL;type=CELL;type=VOICE;waid=${digits}:+${digits}`, 'END:VCARD')
  return lines.join('\n')
}

/** The content of a text, media, location or contact message. */
export function buildContent(request: ContentSend, media?: PreparedMedia): AnyMessageContent {
  switch (request.type) {
    case 'text':
      // linkPreview null: Baileys generates no preview (it would fetch the link from this server).
      return request.linkPreview === true ? { text: request.text } : { text: request.text, linkPreview: null }
    case 'location':
      return {
        location: {
          degreesLatitude: request.latitude,
          degreesLongitude: request.longitude,
          ...(request.name ? { name: request.name } : {}),
          ...(request.address ? { address: request.address } : {}),
        },
      }
    case 'contact':
      return { contacts: { displayName: request.contact.name, contacts: [{ displayName: request.contact.name, vcard: vcard(request.contact) }] } }
    default:
      break
  }
  if (!media) throw new Error(`a ${request.type} message needs its media prepared`)
  const { source, mimetype } = media
  switch (request.type) {
    case 'image':
      return { image: source, mimetype, ...(request.caption ? { caption: request.caption } : {}) }
    case 'video':
      return { video: source, mimetype, ...(request.caption ? { caption: request.caption } : {}) }
    case 'audio':
      return { audio: source, mimetype, ptt: false, ...(request.seconds !== undefined ? { seconds: request.seconds } : {}) }
    case 'voice':
      return { audio: source, mimetype, ptt: true, ...(request.seconds !== undefined ? { seconds: request.seconds } : {}) }
    case 'document':
      return { document: source, mimetype, fileName: request.fileName, ...(request.caption ? { caption: request.caption } : {}) }
    case 'sticker':
      return { sticker: source, mimetype }
  }
}

/** The key Baileys needs to point at a stored message. */
export function keyOf(message: WAMessage): WAMessageKey {
  const { remoteJid, fromMe, id, participant } = message.key
  return { remoteJid, fromMe, id, ...(participant ? { participant } : {}) }
}

/** The content of a reaction, edit or delete (read receipts are not messages). */
export function buildTargetContent(request: Exclude<TargetSend, { type: 'read' }>, target: WAMessage): AnyMessageContent {
  const key = keyOf(target)
  switch (request.type) {
    case 'reaction':
      return { react: { text: request.emoji, key } }
    case 'edit':
      return { text: request.text, edit: key }
    case 'delete':
      return { delete: key }
  }
}
