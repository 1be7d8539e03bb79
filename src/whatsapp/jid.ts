// Recipient normalisation for POST /send and the pairing code: phone numbers in international format
// (digits, optional leading +, spaces, dashes, dots and parentheses tolerated) become
// <digits>@s.whatsapp.net; JIDs are accepted as they are when their shape is one WhatsApp uses.
import { SessionError } from './errors.js'

const JID = /^[0-9]{5,20}(:[0-9]{1,3})?@(s\.whatsapp\.net|lid)$|^[0-9-]{5,40}@g\.us$|^[0-9]{5,40}@newsletter$|^status@broadcast$/

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

/** A JID to send to: a phone number becomes a user JID; a JID is validated and kept. */
export function toJid(input: string): string {
  const trimmed = input.trim()
  if (trimmed.includes('@')) {
    const jid = trimmed.toLowerCase()
    if (!JID.test(jid)) {
      throw new SessionError('INVALID_PHONE', 'This JID is not one WhatsApp uses; give e.g. 14155550123@s.whatsapp.net or a group id ending in @g.us.')
    }
    return jid
  }
  return `${normalisePhone(trimmed)}@s.whatsapp.net`
}
