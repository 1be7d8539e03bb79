// What the rest of the server can learn from the sessions without reaching into them: components
// (events, message store, ...) register a SessionObserver on the manager; every session reports to the
// manager's one ObserverSet. Data still flows one way for commands (route -> manager -> session); this
// is the way back up, as subscriptions, so no session knows who listens.
import type { MessageUpsertType, MessageUserReceiptUpdate, proto, WAMessage, WAMessageKey, WAMessageUpdate } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { SessionState } from '../lib/session-states.js'

export interface InboundInfo {
  /** Delivered from WhatsApp's offline queue (the session was disconnected when it was sent). */
  offline: boolean
}

export interface StateChange {
  state: SessionState
  prev: SessionState
  /** Why, when known: the close reason, 'lease lost', a fatal store error's code... */
  reason: string | null
  /** The WhatsApp close code behind it, when there is one. */
  code: number | null
}

export interface SessionObserver {
  /**
   * Awaited after an incoming message is decrypted and before its receipt tells WhatsApp it arrived
   * (WhatsApp never sends a receipted message again): make it durable here. A throw nacks the
   * message instead, and WhatsApp offers it again later.
   */
  beforeReceipt?(clientId: string, message: WAMessage, info: InboundInfo): Promise<void>
  onState?(clientId: string, change: StateChange): void
  onQr?(clientId: string, qr: { value: string; expiresAt: Date }): void
  /** Baileys' messages.upsert: new messages (notify), history and offline ones (append), own sends. */
  onMessages?(clientId: string, upsert: { messages: WAMessage[]; type: MessageUpsertType }): void
  /** Baileys' messages.update: status (server ack, delivered, read, played), edits, revokes. */
  onMessageUpdates?(clientId: string, updates: WAMessageUpdate[]): void
  /** Baileys' message-receipt.update: per-recipient receipts (groups). */
  onReceipts?(clientId: string, receipts: MessageUserReceiptUpdate[]): void
  /** Answers Baileys' getMessage (a recipient's retry receipt): the first observer with the message wins. */
  getMessage?(clientId: string, key: WAMessageKey): Promise<proto.IMessage | undefined>
}

/** The manager's observers, called in registration order; a notification that throws is logged, not raised. */
export function createObserverSet(log: Pick<Logger, 'error'>) {
  const observers: SessionObserver[] = []

  function notify<K extends 'onState' | 'onQr' | 'onMessages' | 'onMessageUpdates' | 'onReceipts'>(
    name: K,
    clientId: string,
    arg: Parameters<NonNullable<SessionObserver[K]>>[1],
  ): void {
    for (const o of observers) {
      const fn = o[name] as ((clientId: string, arg: unknown) => void) | undefined
      if (!fn) continue
      try {
        fn.call(o, clientId, arg)
      } catch (err) {
        log.error({ err, clientId, observer: name }, 'a session observer failed')
      }
    }
  }

  const set = {
    /** Registers an observer; returns a function that removes it. */
    add(observer: SessionObserver): () => void {
      observers.push(observer)
      return () => {
        const i = observers.indexOf(observer)
        if (i >= 0) observers.splice(i, 1)
      }
    },
    /** The observers as one, for a session of this client id. */
    forSession(clientId: string): SessionReporter {
      return {
        async beforeReceipt(message, info) {
          for (const o of observers) if (o.beforeReceipt) await o.beforeReceipt(clientId, message, info)
        },
        hasBeforeReceipt: () => observers.some((o) => o.beforeReceipt),
        state: (change) => notify('onState', clientId, change),
        qr: (qr) => notify('onQr', clientId, qr),
        messages: (upsert) => notify('onMessages', clientId, upsert),
        messageUpdates: (updates) => notify('onMessageUpdates', clientId, updates),
        receipts: (receipts) => notify('onReceipts', clientId, receipts),
        async getMessage(key) {
          for (const o of observers) {
            if (!o.getMessage) continue
            const found = await o.getMessage(clientId, key)
            if (found) return found
          }
          return undefined
        },
      }
    },
  }
  return set
}

export type ObserverSet = ReturnType<typeof createObserverSet>

/** What one session calls: the observers, already bound to its client id. */
export interface SessionReporter {
  beforeReceipt(message: WAMessage, info: InboundInfo): Promise<void>
  hasBeforeReceipt(): boolean
  state(change: StateChange): void
  qr(qr: { value: string; expiresAt: Date }): void
  messages(upsert: { messages: WAMessage[]; type: MessageUpsertType }): void
  messageUpdates(updates: WAMessageUpdate[]): void
  receipts(receipts: MessageUserReceiptUpdate[]): void
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>
}

/** A reporter that tells nobody (sessions built without a manager, in tests). */
export const silentReporter: SessionReporter = {
  beforeReceipt: async () => {},
  hasBeforeReceipt: () => false,
  state: () => {},
  qr: () => {},
  messages: () => {},
  messageUpdates: () => {},
  receipts: () => {},
  getMessage: async () => undefined,
}
