// What a session does when its socket closes, as a pure function of the close code and the session's
// situation, so every branch is tested without a socket. Baileys does not reconnect by itself:
//  - restart:  515 right after a pairing; Baileys expects a new socket on the same creds at once;
//  - wipe:     401 on a linked session: the phone unlinked this device, its keys are useless now,
//              wipe them and offer a fresh QR (a 401 for creds that never linked is only backed off);
//  - replaced: 440, another client (or another instance) took over the account: reconnecting would
//              only kick it off in turn, forever, so wait for an operator (POST /reconnect);
//  - stop:     the session is stopping, or lost its lease: no new socket here;
//  - backoff:  408/428/500/503 and anything unknown: retry after a growing, jittered delay.

/** The close codes the policy tells apart (Baileys' DisconnectReason values; a test checks they agree). */
export const CLOSE_CODES = {
  loggedOut: 401,
  connectionReplaced: 440,
  restartRequired: 515,
} as const

/** 515 normally comes once, right after a pairing; more in a row means something else is wrong. */
export const MAX_IMMEDIATE_RESTARTS = 3

export type CloseAction = 'restart' | 'wipe' | 'replaced' | 'backoff' | 'stop'

export interface CloseSituation {
  /** The status code of the close (Boom's output.statusCode), null when there was none. */
  code: number | null
  /** stop() was called. */
  stopping: boolean
  /** The session may hold a socket: always without a lease, only while holding it with one. */
  mayConnect: boolean
  /** No account linked yet (the socket was showing a QR or pairing). */
  linking: boolean
  /** Immediate restarts in a row so far. */
  restarts: number
}

export function closeAction(s: CloseSituation): CloseAction {
  if (s.stopping || !s.mayConnect) return 'stop'
  if (s.code === CLOSE_CODES.restartRequired && s.restarts < MAX_IMMEDIATE_RESTARTS) return 'restart'
  if (s.code === CLOSE_CODES.loggedOut && !s.linking) return 'wipe'
  if (s.code === CLOSE_CODES.connectionReplaced) return 'replaced'
  return 'backoff'
}

/** The status code Baileys attaches to a close error (a Boom), or null. */
export function closeCode(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('output' in error)) return null
  const output = (error as { output?: { statusCode?: unknown } }).output
  return typeof output?.statusCode === 'number' ? output.statusCode : null
}
