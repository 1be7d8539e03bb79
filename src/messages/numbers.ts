// Which phone numbers are on WhatsApp, in one query (Baileys' onWhatsApp, a usync contact lookup).
import type { SessionManager } from '../whatsapp/manager.js'
import { normalisePhone } from '../whatsapp/jid.js'

export interface NumberCheck {
  input: string
  exists: boolean
  jid: string | null
}

export async function checkNumbers(sessions: Pick<SessionManager, 'withSocket'>, clientId: string, phones: string[]): Promise<NumberCheck[]> {
  const digits = phones.map((p) => normalisePhone(p))
  const found = await sessions.withSocket(clientId, async (sock) => (await sock.onWhatsApp(...digits.map((d) => `${d}@s.whatsapp.net`))) ?? [])
  const byUser = new Map<string, string>()
  for (const r of found) if (r.exists) byUser.set(r.jid.split('@')[0].split(':')[0], r.jid)
  return phones.map((input, i) => {
    const jid = byUser.get(digits[i]) ?? null
    return { input, exists: jid !== null, jid }
  })
}
