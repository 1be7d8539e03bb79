// The stored status of messages, from what the sessions observe: status updates (server ack,
// delivered, read, played, refused), the status Baileys merges into the messages.upsert of a sent
// message while it buffers events, and per-recipient receipts in groups. Received messages are
// stored here too, before their receipt (so a reply, a reaction or a media download can find them).
import { proto, type MessageUserReceiptUpdate, type WAMessage, type WAMessageUpdate } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import { systemClock, type Clock } from '../lib/clock.js'
import { createGatherer } from '../lib/gather.js'
import { groupBy } from '../lib/group-by.js'
import type { SessionObserver } from '../whatsapp/observers.js'
import type { Inflight } from './inflight.js'
import { Status, type MessageStore, type StatusUpdate } from './store/types.js'

/** Stubs and protocol-only messages (key distribution, history notices) are not worth keeping. */
function worthKeeping(message: WAMessage): boolean {
  const content = message.message
  if (!content || !message.key.id) return false
  return Object.keys(content).some((k) => k !== 'senderKeyDistributionMessage' && k !== 'messageContextInfo' && k !== 'protocolMessage')
}

function receiptStatus(r: proto.IUserReceipt): number | null {
  if (r.playedTimestamp) return Status.PLAYED
  if (r.readTimestamp) return Status.READ
  if (r.receiptTimestamp) return Status.DELIVERY_ACK
  return null
}

/**
 * How long status updates gather before they are written (one statement per session). A status is not
 * on any request's path (events report it as it comes), and receipts come in bursts (every message
 * sent gets one): written together, they cost a statement per burst, not one per receipt.
 */
export const STATUS_GATHER_MS = 200

export interface StatusTrackerOptions {
  store: MessageStore
  inflight: Inflight
  log: Logger
  clock?: Clock
  gatherMs?: number
}

export function createStatusTracker({ store, inflight, log, clock = systemClock, gatherMs = STATUS_GATHER_MS }: StatusTrackerOptions) {
  const gatherer = createGatherer<{ clientId: string; update: StatusUpdate }>({
    ms: gatherMs,
    clock,
    async write(items) {
      await Promise.all([...groupBy(items, (i) => i.clientId)].map(async ([clientId, group]) => {
        const updates = group.map((i) => i.update)
        try {
          await Promise.all(updates.map((u) => inflight.settled(clientId, u.id)))
          await store.updateStatus(clientId, updates)
        } catch (err) {
          log.warn({ err, clientId }, 'could not store a message status')
        }
      }))
    },
  })

  function apply(clientId: string, updates: StatusUpdate[]): void {
    for (const update of updates) void gatherer.add({ clientId, update })
  }

  const observer: SessionObserver = {
    async beforeReceipt(clientId, message) {
      if (!worthKeeping(message)) return
      // A throw nacks the message: WhatsApp offers it again rather than losing it.
      await store.save(clientId, message, { status: message.status ?? Status.DELIVERY_ACK, at: new Date() })
    },
    onMessages(clientId, { messages }) {
      const at = new Date()
      const updates: StatusUpdate[] = []
      for (const m of messages) {
        if (!m.key.fromMe || !m.key.id) continue
        if (typeof m.status === 'number' && m.status >= Status.SERVER_ACK) updates.push({ id: m.key.id, status: m.status, at })
        // Group receipts Baileys merged into the upsert while it buffered events.
        for (const r of m.userReceipt ?? []) {
          const status = receiptStatus(r)
          if (status !== null) updates.push({ id: m.key.id, status, at })
        }
      }
      apply(clientId, updates)
    },
    onMessageUpdates(clientId, updates: WAMessageUpdate[]) {
      const at = new Date()
      // A server ack is reported by the sender, which stored the message at that status already.
      apply(clientId, updates
        .filter((u) => u.key.fromMe && u.key.id && typeof u.update.status === 'number' && u.update.status !== Status.SERVER_ACK)
        .map((u) => {
          const status = u.update.status as number
          const code = u.update.messageStubParameters?.[0]
          return { id: u.key.id as string, status, at, reason: status === Status.ERROR ? `WhatsApp reported an error${code ? ` (${String(code)})` : ''}.` : null }
        }))
    },
    onReceipts(clientId, receipts: MessageUserReceiptUpdate[]) {
      const at = new Date()
      const updates: StatusUpdate[] = []
      for (const r of receipts) {
        const status = receiptStatus(r.receipt)
        if (r.key.id && status !== null) updates.push({ id: r.key.id, status, at })
      }
      apply(clientId, updates)
    },
    async getMessage(clientId, key) {
      if (!key.id) return undefined
      try {
        const stored = await store.get(clientId, key.id)
        return stored?.fromMe ? (stored.message.message ?? undefined) : undefined
      } catch (err) {
        log.warn({ err, clientId }, 'could not read a stored message for a retry receipt')
        return undefined
      }
    },
  }

  return {
    observer,
    /** Writes what is gathered now and waits for the status writes under way (shutdown). */
    drain: (): Promise<void> => gatherer.drain(),
  }
}
