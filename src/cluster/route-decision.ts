// Where a request for one session is answered, decided from facts gathered elsewhere (no I/O here):
// this instance when it holds the session (or there is no cluster), the holder's Fly Machine through
// Fly's proxy (`fly-replay`), the holder's internal address (forwarded by this instance), or nowhere
// for now (503 with Retry-After) while nobody holds a session that has a holder to come.
import type { InstanceInfo } from './types.js'

/** Fly's proxy refuses to replay a request whose body is larger than this (1 MB). */
export const FLY_REPLAY_MAX_BODY_BYTES = 1_000_000

/** A request forwarded by another instance carries this header (its value: that instance's id). */
export const HOP_HEADER = 'x-wa-forwarded-by'
/** Fly's proxy adds this header to a request it replays. */
export const FLY_REPLAY_SOURCE_HEADER = 'fly-replay-src'

export interface RouteFacts {
  /** False when there is nothing to route between: file mode, SESSION_LEASE=off, no registry. */
  clustered: boolean
  /** This instance holds the session's lease. */
  holdsHere: boolean
  /** The instance holding the session's live lease (null: nobody does right now). */
  holder: InstanceInfo | null
  self: InstanceInfo
  /** FLY_MACHINE_ID is set: Fly's proxy is in front of every instance. */
  onFly: boolean
  /** The request body's size from Content-Length; null when unknown (chunked). */
  bodyBytes: number | null
  /** The request was already forwarded or replayed once. */
  hopped: boolean
  /** A Session for it runs here (in standby, starting, reconnecting): it answers for itself. */
  runsHere: boolean
  /** Nobody holds the session but some instance will: it is stored and linked (placement resumes it). */
  takeoverPending: boolean
  /** What to do with no holder: wait for it (503), or answer here (the data lives in Postgres). */
  whenNoHolder: 'retry' | 'local'
  retryAfterSeconds: number
}

export type RouteDecision =
  | { kind: 'local'; reason: 'single' | 'holder' | 'no-holder' | 'no-address' }
  | { kind: 'replay'; machineId: string; instanceId: string }
  | { kind: 'forward'; url: string; instanceId: string }
  | { kind: 'unavailable'; code: 'SESSION_MOVING' | 'HOLDER_UNREACHABLE'; reason: string; retryAfterSeconds: number }

export function decideRoute(f: RouteFacts): RouteDecision {
  if (!f.clustered) return { kind: 'local', reason: 'single' }
  if (f.holdsHere || f.holder?.id === f.self.id) return { kind: 'local', reason: 'holder' }
  const { retryAfterSeconds } = f
  if (f.holder === null) {
    // Running here, it reports its own state (standby: 409 LEASE_HELD_ELSEWHERE, 425 QR_NOT_READY...).
    if (f.whenNoHolder === 'local' || f.runsHere || !f.takeoverPending) return { kind: 'local', reason: 'no-holder' }
    return { kind: 'unavailable', code: 'SESSION_MOVING', reason: 'no instance holds the session yet (takeover in progress)', retryAfterSeconds }
  }
  // One hop at most: the holder changed between the two instances' looks at the lease.
  if (f.hopped) {
    return { kind: 'unavailable', code: 'SESSION_MOVING', reason: 'the session moved while the request was being routed', retryAfterSeconds }
  }
  const { holder } = f
  if (f.onFly && holder.flyMachineId !== null && f.bodyBytes !== null && f.bodyBytes <= FLY_REPLAY_MAX_BODY_BYTES) {
    return { kind: 'replay', machineId: holder.flyMachineId, instanceId: holder.id }
  }
  if (holder.url !== null) return { kind: 'forward', url: holder.url, instanceId: holder.id }
  // The holder advertises no address (INTERNAL_URL unset): nothing to route to. Answered here as
  // before routing existed (a standby says 409 LEASE_HELD_ELSEWHERE, naming the holder).
  return { kind: 'local', reason: 'no-address' }
}

/** The `fly-replay` header value naming one Machine. */
export function flyReplayHeader(machineId: string): string {
  return `instance=${machineId}`
}

/** Content-Length as a number; null when absent or not a plain integer (chunked bodies). */
export function bodyBytesOf(contentLength: string | undefined, transferEncoding: string | undefined): number | null {
  if (contentLength === undefined) return transferEncoding === undefined ? 0 : null
  return /^[0-9]+$/.test(contentLength) ? Number(contentLength) : null
}
