// The states a session can be in, without Baileys: the API schemas, metrics and the session share it.
export const SESSION_STATES = [
  'starting', 'qr', 'connecting', 'open', 'reconnecting', 'logged_out', 'replaced', 'stopped', 'standby',
] as const
export type SessionState = (typeof SESSION_STATES)[number]
