// Sends one message on a session's open socket and keeps it: the message id is chosen first, the
// server ack awaited, then the message is stored (for retry receipts, replies and its status) before
// the caller answers. 200 means WhatsApp's server has the message.
import { generateMessageIDV2, type AnyMessageContent, type WAMessage } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { SessionManager } from '../whatsapp/manager.js'
import { createAckWaiter } from './ack.js'
import { MessageError } from './errors.js'
import type { Inflight } from './inflight.js'
import { Status, type MessageStore } from './store/types.js'

export interface SenderDeps {
  sessions: Pick<SessionManager, 'withSocket'>
  store: MessageStore
  inflight: Inflight
  ackTimeoutMs: number
  clock: Clock
  log: Logger
  /** Counts sends that reached WhatsApp. */
  onSent?(result: 'ok' | 'error'): void
}

/**
 * Baileys' error when no media host took the upload (each refused it, or the upload timed out): it
 * comes before the message is built, so nothing was sent.
 */
const isUploadFailure = (err: unknown) => err instanceof Error && err.message === 'Media upload failed on all hosts'

export interface Sent {
  messageId: string
  jid: string
  message: WAMessage
}

export function createSender({ sessions, store, inflight, ackTimeoutMs, clock, log, onSent }: SenderDeps) {
  const acks = createAckWaiter(clock)
  async function keep(clientId: string, message: WAMessage, status: number, reason?: string, at = new Date()): Promise<void> {
    try {
      await store.save(clientId, message, { status, reason, at })
    } catch (err) {
      log.error({ err, clientId, messageId: message.key.id }, 'a sent message could not be stored')
      throw new MessageError(
        'STORE_UNAVAILABLE',
        'The message was sent, but the message store did not take it (retry receipts and its status may be lost).',
        { messageId: message.key.id, sent: true },
        { cause: err },
      )
    }
  }

  /** Sends `content` to `jid`; messageId reuses an id chosen earlier (idempotency, queue). */
  function send(clientId: string, jid: string, content: AnyMessageContent, options: { messageId?: string; quoted?: WAMessage } = {}): Promise<Sent> {
    return sessions.withSocket(clientId, async (sock) => {
      const messageId = options.messageId ?? generateMessageIDV2(sock.user?.id)
      const written = inflight.begin(clientId, messageId)
      const ack = acks.awaitServerAck(sock, messageId, ackTimeoutMs)
      try {
        let message: WAMessage | undefined
        try {
          message = await sock.sendMessage(jid, content, { messageId, ...(options.quoted ? { quoted: options.quoted } : {}) })
        } catch (err) {
          ack.cancel()
          onSent?.('error')
          if (isUploadFailure(err)) throw new MessageError('MEDIA_UPLOAD_FAILED', 'Every media host refused the upload or timed out.', undefined, { cause: err })
          throw new MessageError('SEND_FAILED', 'WhatsApp did not accept the message.', undefined, { cause: err })
        }
        if (!message) {
          ack.cancel()
          throw new MessageError('SEND_FAILED', 'WhatsApp returned no message.')
        }
        const outcome = await ack.result
        if (outcome.kind === 'ack') {
          // Sent when the ack arrived: a receipt handled meanwhile must not look older than it.
          await keep(clientId, message, Status.SERVER_ACK, undefined, outcome.at)
          // Baileys reports no event for a server ack (only for a refusal): report it like WhatsApp's
          // later receipts, so the session's observers (the event producer) learn the message was sent.
          sock.ev.emit('messages.update', [{ key: message.key, update: { status: Status.SERVER_ACK } }])
          onSent?.('ok')
          return { messageId, jid, message }
        }
        if (outcome.kind === 'error') {
          const reason = `WhatsApp's server refused the message (error ${outcome.code}).`
          await keep(clientId, message, Status.ERROR, reason)
          onSent?.('error')
          throw new MessageError('SEND_FAILED', reason, { messageId, ackError: outcome.code })
        }
        await keep(clientId, message, Status.PENDING)
        throw new MessageError(
          'SEND_NOT_ACKNOWLEDGED',
          outcome.kind === 'closed'
            ? 'The connection closed before WhatsApp\'s server acknowledged the message.'
            : `WhatsApp's server did not acknowledge the message within ${ackTimeoutMs} ms.`,
          { messageId },
        )
      } finally {
        written()
      }
    })
  }

  return { send }
}

export type Sender = ReturnType<typeof createSender>
