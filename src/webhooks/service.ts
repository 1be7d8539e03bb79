// What the webhook routes call: a session's webhook (checked URL, headers and secret; the secret
// generated when none is given and never shown again in full), its dead letters and their
// redelivery. Changes reach the delivery worker at once on this instance, at its next poll elsewhere.
import type { EventOutbox } from '../events/types.js'
import { WebhookError } from './errors.js'
import { generateSecret, isValidSecret, maskSecret } from './secret.js'
import { checkCustomHeaders, checkTargetUrl } from './target.js'
import type { DeadLetter, DeadLetterState, SessionWebhook, WebhookStore } from './types.js'

export interface WebhookInput {
  url: string
  secret?: string
  events?: string[]
  headers?: Record<string, string>
}

export interface WebhookView {
  clientId: string
  url: string
  secret: string
  events: string[] | null
  headers: Record<string, string>
  createdAt: string
  updatedAt: string
}

export interface ServiceOptions {
  store: WebhookStore
  outbox: EventOutbox | null
  allowedHosts: readonly string[]
  /** The session runs here or is stored. */
  sessionExists(clientId: string): Promise<boolean>
  /** Tells the worker (this instance) what changed. */
  changed(clientId: string, hook: SessionWebhook | null): void
  /** Dead letters were queued for redelivery. */
  requeued(clientId: string): void
}

const view = (clientId: string, h: SessionWebhook): WebhookView => ({
  clientId, url: h.url, secret: maskSecret(h.secret), events: h.events, headers: h.headers,
  createdAt: h.createdAt.toISOString(), updatedAt: h.updatedAt.toISOString(),
})

export function createWebhookService(o: ServiceOptions) {
  async function assertSession(clientId: string): Promise<void> {
    if (!(await o.sessionExists(clientId))) throw new WebhookError('STORED_SESSION_NOT_FOUND', `No session "${clientId}" is running or stored.`)
  }
  return {
    async put(clientId: string, input: WebhookInput): Promise<WebhookView & { generatedSecret?: string }> {
      const url = checkTargetUrl(input.url, o.allowedHosts)
      const headers = checkCustomHeaders(input.headers ?? {})
      if (input.secret !== undefined && !isValidSecret(input.secret)) throw new WebhookError('WEBHOOK_SECRET_INVALID', 'The secret is not whsec_ followed by base64 of 24 to 64 bytes.')
      await assertSession(clientId)
      const secret = input.secret ?? generateSecret()
      const events = input.events && input.events.length > 0 ? [...new Set(input.events)] : null
      // Events stored before the webhook existed are not sent to it: it starts at the session's last seq.
      const startSeq = o.outbox ? await o.outbox.lastSeq(clientId) : 0
      await o.store.putWebhook(clientId, { url: url.href, secret, events, headers }, startSeq)
      const stored = await o.store.getWebhook(clientId)
      if (!stored) throw new WebhookError('STORED_SESSION_NOT_FOUND', `No session "${clientId}" is stored.`)
      o.changed(clientId, stored)
      return { ...view(clientId, stored), ...(input.secret === undefined ? { generatedSecret: secret } : {}) }
    },
    async get(clientId: string): Promise<WebhookView> {
      const hook = await o.store.getWebhook(clientId)
      if (!hook) throw new WebhookError('WEBHOOK_NOT_FOUND', `Session "${clientId}" has no webhook of its own.`)
      return view(clientId, hook)
    },
    async delete(clientId: string): Promise<void> {
      if (!(await o.store.deleteWebhook(clientId))) throw new WebhookError('WEBHOOK_NOT_FOUND', `Session "${clientId}" has no webhook of its own.`)
      o.changed(clientId, null)
    },
    deliveries: (clientId: string, state?: DeadLetterState): Promise<DeadLetter[]> => o.store.deadLetters(clientId, state),
    async redeliver(clientId: string, eventIds: string[] | null): Promise<DeadLetter[]> {
      const letters = await o.store.requeue(clientId, eventIds)
      if (letters.length > 0) o.requeued(clientId)
      return letters
    },
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
