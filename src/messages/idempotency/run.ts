// Runs a send under an idempotency key: the first request with the key runs and its answer is kept;
// a repeat gets that answer and runs nothing. An error after the message may have left (no ack in
// time, a refusal, a store failure) is kept as the answer too; an error before anything was sent
// releases the key, so the client can fix the request and retry with it.
import type { Answer, IdempotencyStore } from './types.js'

export interface IdempotentRun {
  store: IdempotencyStore
  scope: string
  clientId: string
  fingerprint: string
  /** A fresh message id for a first request. */
  newMessageId: string
  /** The request's work, with the message id to send under (a takeover reuses the first one). */
  run(messageId: string, takeover: boolean): Promise<Answer>
  /** The answer to keep for an error once a message may have reached WhatsApp; null: release the key. */
  keepError(err: unknown): Answer | null
}

export type IdempotentResult = { kind: 'ran'; answer: Answer } | { kind: 'replay'; answer: Answer } | { kind: 'in_flight' } | { kind: 'mismatch' }

export async function runIdempotent(o: IdempotentRun): Promise<IdempotentResult> {
  const claim = await o.store.claim(o.scope, o.clientId, o.fingerprint, o.newMessageId)
  if (claim.kind === 'replay') return { kind: 'replay', answer: claim.answer }
  if (claim.kind === 'in_flight' || claim.kind === 'mismatch') return { kind: claim.kind }
  const held = { scope: o.scope, clientId: o.clientId, fingerprint: o.fingerprint, messageId: claim.messageId }
  let answer: Answer
  try {
    answer = await o.run(claim.messageId, claim.kind === 'takeover')
  } catch (err) {
    const kept = o.keepError(err)
    // The request's own error is the answer; a key that cannot be updated now expires its claim.
    if (kept) await o.store.complete(held, kept).catch(() => undefined)
    else await o.store.release(o.scope).catch(() => undefined)
    throw err
  }
  // The message is out: its answer is the client's even if the key cannot be completed now. A retry
  // then finds the claim abandoned and answers from the message store (the takeover path).
  await o.store.complete(held, answer).catch(() => undefined)
  return { kind: 'ran', answer }
}
