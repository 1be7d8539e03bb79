// Who a message is from and where, as consumers want it: JIDs as WhatsApp gives them, and the phone
// number when it is known. Baileys 7 addresses many chats by LID (…@lid, no phone number in it); it
// passes the phone-number JID alongside as remoteJidAlt / participantAlt when WhatsApp sent it.
import { isJidGroup, jidDecode, type WAMessageKey } from '@whiskeysockets/baileys'

export interface Party {
  jid: string | null
  /** E.164 with a leading +, or null when only a LID is known. */
  phone: string | null
}

/** The phone number of a phone-number JID (device suffix dropped), else null. */
export function phoneOf(jid: string | null | undefined): string | null {
  if (!jid) return null
  const decoded = jidDecode(jid)
  if (!decoded || decoded.server !== 's.whatsapp.net' || !/^[0-9]{5,20}$/.test(decoded.user)) return null
  return `+${decoded.user}`
}

/** The party behind a JID, its phone from the JID itself or from the alternative address. */
export function partyOf(jid: string | null | undefined, alt?: string | null): Party {
  return { jid: jid ?? null, phone: phoneOf(jid) ?? phoneOf(alt) }
}

export interface Addresses {
  chat: Party
  /** The author; for a message this account sent from another device (fromMe) in a 1:1 chat: null. */
  sender: Party | null
  group: { jid: string; participant: string | null } | null
}

export function addressesOf(key: WAMessageKey): Addresses {
  const chatJid = key.remoteJid ?? null
  const inGroup = Boolean(chatJid && isJidGroup(chatJid))
  const chat = inGroup ? { jid: chatJid, phone: null } : partyOf(chatJid, key.remoteJidAlt)
  let sender: Party | null
  if (key.participant) sender = partyOf(key.participant, key.participantAlt)
  else sender = key.fromMe ? null : chat
  return {
    chat,
    sender,
    group: inGroup && chatJid ? { jid: chatJid, participant: key.participant ?? null } : null,
  }
}
