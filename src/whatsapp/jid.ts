// Recipient normalisation for POST /send and the pairing code. Supported recipients:
//   - a phone number in international format (digits, optional leading +, spaces, dashes, dots and
//     parentheses tolerated), which becomes <digits>@s.whatsapp.net;
//   - a user JID, <digits>@s.whatsapp.net, or a LID, <digits>@lid (Baileys 7 addresses users by LID),
//     either with an optional device suffix :<n>;
//   - a group JID: <digits>@g.us (current groups) or <creator digits>-<timestamp digits>@g.us (older ones).
// Well-formed JIDs WhatsApp uses for other things (status updates, broadcast lists, channels, bots,
// calls) are refused with UNSUPPORTED_RECIPIENT: a text sent there either fails or does not reach
// anyone as a chat message. Anything else is INVALID_PHONE.
import { SessionError } from './errors.js'

const SUPPORTED_JID = /^[0-9]{5,20}(:[0-9]{1,3})?@(s\.whatsapp\.net|lid)$|^([0-9]{5,40}|[0-9]{5,20}-[0-9]{5,20})@g\.us$/

/** JID servers WhatsApp uses that this API does not send to, with the reason a caller gets. */
const UNSUPPORTED_SERVERS: Record<string, string> = {
  broadcast: 'Status updates (status@broadcast) and broadcast lists are not supported; send to each recipient instead.',
  newsletter: 'Channels (@newsletter) are not supported: their messages are published by channel admins, not sent as chats.',
  bot: 'WhatsApp bots (@bot) are not supported.',
  call: 'Call links (@call) are not recipients.',
  'c.us': 'The legacy @c.us server is not used by WhatsApp Web any more; send to <digits>@s.whatsapp.net.',
  hosted: 'Hosted (business platform) JIDs are not supported; send to the phone number.',
  'hosted.lid': 'Hosted (business platform) JIDs are not supported; send to the phone number.',
}

/** Digits of an international phone number, or a SessionError('INVALID_PHONE'). */
export function normalisePhone(input: string): string {
  const trimmed = input.trim()
  if (!/^\+?[0-9][0-9 ()\-.]*$/.test(trimmed)) {
    throw new SessionError('INVALID_PHONE', 'A phone number may only contain digits, a leading +, spaces, dashes, dots and parentheses.')
  }
  let digits = trimmed.replace(/[^0-9]/g, '')
  // "00" is the international call prefix in most countries: 0044... is +44...
  if (!trimmed.startsWith('+') && digits.startsWith('00')) digits = digits.slice(2)
  if (digits.length < 7 || digits.length > 15) {
    throw new SessionError('INVALID_PHONE', 'A phone number has 7 to 15 digits including the country code (E.164), e.g. +14155550123.')
  }
  if (digits.startsWith('0')) {
    throw new SessionError('INVALID_PHONE', 'Start the phone number with its country code (e.g. +44 7700 900123), not a national 0.')
  }
  return digits
}

/** A JID to send to: a phone number becomes a user JID; a supported JID is kept (lower-cased). */
export function toJid(input: string): string {
  const trimmed = input.trim()
  if (!trimmed.includes('@')) return `${normalisePhone(trimmed)}@s.whatsapp.net`
  const jid = trimmed.toLowerCase()
  if (SUPPORTED_JID.test(jid)) return jid
  const server = jid.slice(jid.lastIndexOf('@') + 1)
  const unsupported = UNSUPPORTED_SERVERS[server]
  if (unsupported !== undefined && /^[0-9a-z._:-]+$/.test(jid.slice(0, jid.lastIndexOf('@')))) {
    throw new SessionError('UNSUPPORTED_RECIPIENT', unsupported)
  }
  throw new SessionError(
    'INVALID_PHONE',
    'This JID is not one WhatsApp uses for a chat; give e.g. 14155550123@s.whatsapp.net, a LID ending in @lid or a group id ending in @g.us.',
  )
}
