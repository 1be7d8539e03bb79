// What a session asks of an open (or linking) socket, with Baileys' failures turned into the
// session's own errors. The session checks its state first; these only talk to the socket.
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import { SessionError } from './errors.js'
import type { WASocket } from './socket.js'

const LOGOUT_TIMEOUT_MS = 5_000

/** Sends a text; resolves with WhatsApp's message id. */
export async function sendTextOn(sock: WASocket, jid: string, text: string): Promise<string> {
  const sent = await sock.sendMessage(jid, { text }).catch((err: unknown) => {
    throw new SessionError('SEND_FAILED', 'WhatsApp did not accept the message.', undefined, { cause: err })
  })
  const messageId = sent?.key?.id
  if (!messageId) throw new SessionError('SEND_FAILED', 'WhatsApp returned no message id.')
  return messageId
}

export function pairingCodeOn(sock: WASocket, digits: string): Promise<string> {
  return sock.requestPairingCode(digits).catch((err: unknown) => {
    throw new SessionError('SEND_FAILED', 'WhatsApp did not issue a pairing code.', undefined, { cause: err })
  })
}

/** Unlinks the device on WhatsApp's side (best effort, bounded), then closes the socket. */
export async function logoutOn(sock: WASocket, clock: Clock, log: Logger): Promise<void> {
  let timer: unknown
  const timeout = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, LOGOUT_TIMEOUT_MS)
  })
  await Promise.race([sock.logout().catch((err: unknown) => log.warn({ err }, 'logout request failed')), timeout])
  clock.clearTimeout(timer)
  await sock.end(undefined).catch(() => undefined)
}
