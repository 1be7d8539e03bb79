// The producer: a SessionObserver that turns what arrives on a session into events in the outbox.
// An incoming message is appended (and durable) before Baileys receipts it; if that fails the observer
// throws, Baileys nacks the message and WhatsApp offers it again (which cannot be decrypted: Baileys
// used the keys already, so a database outage must not fail it; see store/spooled.ts). The same message reported again by
// messages.upsert is the same dedupe key, so it is stored once. Appends of one session go out in the
// order they were observed (one batch in flight per session; what arrives meanwhile shares the next).
// Sessions only run where this process holds their lease, so observing them is producing for exactly
// those; a session going to standby (its lease went elsewhere) is the new holder's to report.
import { proto, type MessageUserReceiptUpdate, type WAMessage, type WAMessageUpdate } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { createGroupCommit, type GroupCommit } from '../lib/group-commit.js'
import type { SessionObserver } from '../whatsapp/observers.js'
import { messageReceived, messageStatus, sessionQr, sessionStatus, statusOf } from './normalise.js'
import type { EventOutbox, NewEvent } from './types.js'

const PROGRESS = ['sent', 'delivered', 'read', 'played'] as const

export interface ProducerOptions {
  outbox: EventOutbox
  log: Pick<Logger, 'warn'>
  /** Wall-clock time of events that carry none of their own. */
  now?: () => Date
}

export function createEventProducer({ outbox, log, now = () => new Date() }: ProducerOptions) {
  const queues = new Map<string, GroupCommit<NewEvent[]>>()
  const pending = new Set<Promise<unknown>>()

  function queueOf(clientId: string): GroupCommit<NewEvent[]> {
    let q = queues.get(clientId)
    if (!q) {
      q = createGroupCommit<NewEvent[]>(async (batches) => { await outbox.append(clientId, batches.flat()) })
      queues.set(clientId, q)
    }
    return q
  }

  /** Appends in observation order; resolves once durable. */
  function append(clientId: string, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve()
    return queueOf(clientId).submit(events)
  }

  /** For notifications nobody awaits: a failure is logged (without the events, which hold phone numbers). */
  function appendLater(clientId: string, events: NewEvent[], what: string): void {
    if (events.length === 0) return
    const work = append(clientId, events).catch((err: unknown) => log.warn({ err, clientId, events: events.length, what }, 'events could not be stored'))
    pending.add(work)
    void work.finally(() => pending.delete(work))
  }

  /**
   * The status events of one report. A status implies the earlier ones (Baileys may fold the server
   * ack into a delivery it buffered): each is produced once, in order, thanks to the dedupe keys.
   * The server ack concerns the chat; a group member's receipt starts at delivered.
   */
  const status = (m: { remoteJid?: string | null; id?: string | null }, recipient: string | null | undefined, code: number | null | undefined, reason?: string | null): NewEvent[] => {
    const s = statusOf(code)
    if (!s || !m.id || !m.remoteJid) return []
    const to = recipient ?? m.remoteJid
    const at = now()
    if (s === 'failed') return [messageStatus({ messageId: m.id, chat: m.remoteJid, recipient: to, status: s, at, reason })]
    const from = to === m.remoteJid ? 0 : 1
    return PROGRESS.slice(from, PROGRESS.indexOf(s) + 1).map((status) => messageStatus({ messageId: m.id as string, chat: m.remoteJid as string, recipient: to, status, at }))
  }

  const observer: SessionObserver = {
    async beforeReceipt(clientId: string, message: WAMessage) {
      const event = messageReceived(clientId, message, now())
      // A throw here nacks the message: WhatsApp offers it again rather than losing it.
      if (event) await append(clientId, [event])
    },
    onMessages(clientId, { messages }) {
      const events: NewEvent[] = []
      for (const m of messages) {
        // Messages this account sent through the API are reported by status, not as received.
        if (m.key.fromMe) {
          events.push(...status(m.key, null, m.status))
          continue
        }
        const event = messageReceived(clientId, m, now())
        if (event) events.push(event)
      }
      appendLater(clientId, events, 'messages')
    },
    onMessageUpdates(clientId, updates: WAMessageUpdate[]) {
      const events = updates
        .filter((u) => u.key.fromMe && typeof u.update.status === 'number')
        .flatMap((u) => {
          const code = u.update.status as number
          const reason = statusOf(code) === 'failed' ? `WhatsApp reported an error${u.update.messageStubParameters?.[0] ? ` (${String(u.update.messageStubParameters[0])})` : ''}.` : null
          return status(u.key, null, code, reason)
        })
      appendLater(clientId, events, 'message updates')
    },
    onReceipts(clientId, receipts: MessageUserReceiptUpdate[]) {
      // Per-recipient receipts (groups) only ever concern messages this account sent.
      const S = proto.WebMessageInfo.Status
      const events = receipts.flatMap((r) => {
        const code = r.receipt.playedTimestamp ? S.PLAYED : r.receipt.readTimestamp ? S.READ : r.receipt.receiptTimestamp ? S.DELIVERY_ACK : null
        return status(r.key, r.receipt.userJid, code)
      })
      appendLater(clientId, events, 'receipts')
    },
    onState(clientId, change) {
      if (change.state === 'standby') return
      appendLater(clientId, [sessionStatus(change, now())], 'session status')
    },
    onQr(clientId, qr) {
      appendLater(clientId, [sessionQr(qr, now())], 'qr')
    },
  }

  return {
    observer,
    /** Waits for the appends under way (shutdown, before the outbox closes). */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending])
      await Promise.all([...queues.values()].map((q) => q.idle()))
    },
  }
}

export type EventProducer = ReturnType<typeof createEventProducer>
