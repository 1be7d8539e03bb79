// Runs a send under an idempotency key: the first request with the key runs and its answer is kept;
// a repeat gets that answer and runs nothing. An error after the message may have left (no ack in
// time, a refusal, a store failure) is kept as the answer too; an error before anything was sent
// releases the key, so the client can fix the request and retry with it. A plain success is the
// message store's to tell: a repeat that finds the key in flight asks it whether the message under the
// key's id reached WhatsApp, so the store need not write that answer to the key (see complete).
import type { Answer, IdempotencyStore } from './types.js'

export interface IdempotentRun {
  store: IdempotencyStore
  scope: string
  clientId: string
  fingerprint: string
  /** A fresh message id for a first request. */
  newMessageId: string
  /** The request's work, with the message id to send under (a takeover reuses the first one). */
  run(messageId: string): Promise<Answer>
  /** The answer for the message sent under this id, from the message store once it reached WhatsApp; else null. */
  recorded(messageId: string): Promise<Answer | null>
  /** Whether the request's own answer is the one recorded() gives for its message. */
  isRecorded(answer: Answer, messageId: string): boolean
  /** The answer to keep for an error once a message may have reached WhatsApp; null: release the key. */
  keepError(err: unknown): Answer | null
}

export type IdempotentResult = { kind: 'ran'; answer: Answer } | { kind: 'replay'; answer: Answer } | { kind: 'in_flight' } | { kind: 'mismatch' }

export async function runIdempotent(o: IdempotentRun): Promise<IdempotentResult> {
  const claim = await o.store.claim(o.scope, o.clientId, o.fingerprint, o.newMessageId)
  if (claim.kind === 'replay') return { kind: 'replay', answer: claim.answer }
  if (claim.kind === 'mismatch') return { kind: 'mismatch' }
  if (claim.kind === 'in_flight') {
    // Its message may be out with the answer left to the message store; unreadable now: still in flight.
    const answer = claim.messageId === undefined ? null : await o.recorded(claim.messageId).catch(() => null)
    return answer ? { kind: 'replay', answer } : { kind: 'in_flight' }
  }
  const held = { scope: o.scope, clientId: o.clientId, fingerprint: o.fingerprint, messageId: claim.messageId }
  if (claim.kind === 'takeover') {
    // The claim's lock ran out: the first request was cut short, or it succeeded and its answer was
    // left to the message store. Either way, a message that reached WhatsApp is answered, not re-sent.
    const recorded = await o.recorded(claim.messageId)
    if (recorded) {
      await o.store.complete(held, recorded, { recorded: true }).catch(() => undefined)
      return { kind: 'replay', answer: recorded }
    }
  }
  let answer: Answer
  try {
    answer = await o.run(claim.messageId)
  } catch (err) {
    const kept = o.keepError(err)
    // The request's own error is the answer; a key that cannot be updated now expires its claim.
    if (kept) await o.store.complete(held, kept).catch(() => undefined)
    else await o.store.release(held).catch(() => undefined)
    throw err
  }
  // The message is out: its answer is the client's even if the key cannot be completed now. A retry
  // then finds the claim in flight and answers from the message store.
  await o.store.complete(held, answer, { recorded: o.isRecorded(answer, claim.messageId) }).catch(() => undefined)
  return { kind: 'ran', answer }
}
