// Standard Webhooks signing with the reference implementation (`standardwebhooks`), the package
// consumers verify with: webhook-id is the event id (stable across retries, so consumers dedupe on
// it), webhook-timestamp the attempt's time, webhook-signature one `v1,<base64>` per secret
// (space-separated) so both the new and the previous secret verify during a rotation.
import { Webhook } from 'standardwebhooks'
import type { StoredEvent } from '../events/types.js'

export interface SignedRequest {
  body: string
  headers: Record<string, string>
}

/** The JSON body a consumer receives. */
export function webhookBody(event: StoredEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, clientId: event.clientId, seq: event.seq, timestamp: event.timestamp, data: event.data })
}

/** A signer for a set of secrets (the current one first). */
export function createSigner(secrets: readonly string[]) {
  const webhooks = secrets.map((s) => new Webhook(s))
  return (event: StoredEvent, at: Date, body = webhookBody(event)): SignedRequest => ({
    body,
    headers: {
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': webhooks.map((w) => w.sign(event.id, at, body)).join(' '),
    },
  })
}

export type Signer = ReturnType<typeof createSigner>
