// libsignal logs session housekeeping with console.* ("Closing session: SessionEntry {...}",
// "Closing open session in favor of incoming prekey bundle", "Decrypted message with closed
// session."). In tests that is noise, not a signal; everything else still goes through.
const NOISE = /^(Closing session|Closing open session|Closing stale open session|Decrypted message with closed session|Session already closed|Removing old closed session|Migrating session|WARNING: Expected pubkey of length 33)/

export const quietLibsignal = (): void => {
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[level].bind(console)
    console[level] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && NOISE.test(args[0])) return
      original(...args)
    }
  }
}
