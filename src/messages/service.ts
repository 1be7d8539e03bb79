// One send request, from validated body to answer: the target or quoted message from the store, the
// session checks, the outbound queue when asked for and the session is not open, the media, the
// content, and the sender. Used by POST /send and by the queue worker (which always sends directly).
import { generateMessageIDV2 } from '@whiskeysockets/baileys'
import type { Clock } from '../lib/clock.js'
import type { ContentSend, SendRequest, TargetSend } from '../schemas/send.js'
import type { SessionManager } from '../whatsapp/manager.js'
import { SessionError } from '../whatsapp/errors.js'
import { toJid } from '../whatsapp/jid.js'
import { buildContent, buildTargetContent, keyOf } from './content.js'
import { MessageError } from './errors.js'
import type { MediaFetcher } from './media/fetch.js'
import { prepareMedia, type PreparedMedia } from './media/input.js'
import type { SpooledFile } from './media/spool.js'
import type { QueueStore } from './queue/types.js'
import type { Sender } from './sender.js'
import { Status, type MessageStore, type StoredMessage } from './store/types.js'

export interface SendAnswer {
  status: 200 | 202
  body: { clientId: string; messageId: string; to: string; status: 'sent' | 'read' | 'pending' }
}

export interface ServiceDeps {
  sessions: Pick<SessionManager, 'get' | 'withSocket'>
  store: MessageStore
  queue: QueueStore
  sender: Sender
  fetcher: MediaFetcher
  mediaMaxBytes: number
  clock: Clock
  /** A queued entry was added: the worker may send it now. */
  onQueued?(clientId: string): void
}

export interface SendOptions {
  /** The id to send with (chosen before, e.g. for an idempotency key); a new one otherwise. */
  messageId?: string
  /** Spooled file parts of a multipart request, by part name. */
  uploads?: ReadonlyMap<string, SpooledFile>
  /** The queue worker: send now, never queue. */
  direct?: boolean
}

const isContent = (r: SendRequest): r is ContentSend => !['reaction', 'edit', 'delete', 'read'].includes(r.type)

export function createMessageService(d: ServiceDeps) {
  async function stored(clientId: string, id: string, code: 'QUOTED_MESSAGE_NOT_FOUND' | 'TARGET_MESSAGE_NOT_FOUND'): Promise<StoredMessage> {
    const found = await d.store.get(clientId, id)
    if (!found) throw new MessageError(code, `No message ${id} is stored for session "${clientId}".`, { messageId: id })
    return found
  }

  async function target(clientId: string, request: TargetSend, options: SendOptions): Promise<SendAnswer> {
    const found = await stored(clientId, request.messageId, 'TARGET_MESSAGE_NOT_FOUND')
    const chat = found.message.key.remoteJid ?? ''
    if (request.type === 'read') {
      await d.sessions.withSocket(clientId, (sock) => sock.readMessages([keyOf(found.message)]))
      await d.store.updateStatus(clientId, [{ id: found.id, status: Status.READ, at: new Date() }])
      return { status: 200, body: { clientId, messageId: found.id, to: chat, status: 'read' } }
    }
    if (request.type !== 'reaction' && !found.fromMe) {
      throw new MessageError('NOT_OWN_MESSAGE', `Message ${found.id} was received, not sent by this account.`, { messageId: found.id })
    }
    const sent = await d.sender.send(clientId, chat, buildTargetContent(request, found.message), { messageId: options.messageId })
    return { status: 200, body: { clientId, messageId: sent.messageId, to: chat, status: 'sent' } }
  }

  async function content(clientId: string, request: ContentSend, options: SendOptions): Promise<SendAnswer> {
    const jid = toJid(request.to)
    const quoted = request.quotedMessageId ? (await stored(clientId, request.quotedMessageId, 'QUOTED_MESSAGE_NOT_FOUND')).message : undefined
    let media: PreparedMedia | undefined
    try {
      if ('media' in request) {
        media = await prepareMedia(request.type, request.media, { fetcher: d.fetcher, maxBytes: d.mediaMaxBytes, clock: d.clock, uploads: options.uploads })
      }
      const sent = await d.sender.send(clientId, jid, buildContent(request, media), { messageId: options.messageId, quoted })
      return { status: 200, body: { clientId, messageId: sent.messageId, to: jid, status: 'sent' } }
    } finally {
      await media?.cleanup()
    }
  }

  /** Queues the request when asked to and the session cannot send it now in order; else null. */
  async function maybeQueue(clientId: string, request: SendRequest, options: SendOptions): Promise<SendAnswer | null> {
    if (options.direct || !('queue' in request) || request.queue !== true) return null
    const session = d.sessions.get(clientId)
    if (session.state === 'open' && (await d.queue.waiting(clientId)) === 0) return null
    if ('media' in request && request.media.upload !== undefined) {
      throw new MessageError('QUEUE_NOT_SUPPORTED', 'A multipart upload cannot be queued; send the file by URL or base64.')
    }
    // Checked now, not when the queue sends it: a bad recipient or a dangling reference is the caller's 4xx.
    const to = isContent(request) ? toJid(request.to) : ((await stored(clientId, request.messageId, 'TARGET_MESSAGE_NOT_FOUND')).message.key.remoteJid ?? '')
    if (isContent(request) && request.quotedMessageId) await stored(clientId, request.quotedMessageId, 'QUOTED_MESSAGE_NOT_FOUND')
    const messageId = options.messageId ?? generateMessageIDV2()
    await d.queue.enqueue(clientId, messageId, request)
    d.onQueued?.(clientId)
    return { status: 202, body: { clientId, messageId, to, status: 'pending' } }
  }

  async function send(clientId: string, request: SendRequest, options: SendOptions = {}): Promise<SendAnswer> {
    const session = d.sessions.get(clientId) // SESSION_NOT_FOUND before any work
    if (isContent(request)) toJid(request.to) // then a bad recipient, whatever the session's state
    const queued = await maybeQueue(clientId, request, options)
    if (queued) return queued
    // Before fetching any media: a session that cannot send now is the caller's 409 at once.
    if (session.state !== 'open') throw new SessionError('SESSION_NOT_OPEN', `The session is ${session.state}, not open.`, { state: session.state })
    return isContent(request) ? content(clientId, request, options) : target(clientId, request, options)
  }

  return { send }
}

export type MessageService = ReturnType<typeof createMessageService>
