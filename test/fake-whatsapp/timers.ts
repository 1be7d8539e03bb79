// Baileys rc14 starts timers it never clears: the 30 s race in uploadPreKeys (Socket/socket.js,
// UPLOAD_TIMEOUT) and the 20 s history-sync wait (Socket/chats.js awaitingSyncTimeout), among
// others. After sock.end() they keep a test process alive for up to 30 s doing nothing. In test
// processes only, long timers are unref'd: they still fire if the process is alive anyway, but no
// longer hold it open. Our own code (and the fake) clears its timers and closes its sockets.
const MARK = Symbol.for('fake-whatsapp.unref-long-timers')
const LONG_MS = 5_000

export const unrefLongTimers = (): void => {
  const g: typeof globalThis & { [MARK]?: true } = globalThis
  if (g[MARK]) return
  g[MARK] = true
  const original = globalThis.setTimeout
  const patched = ((...args: Parameters<typeof setTimeout>) => {
    const timer = original(...args)
    const ms = args[1]
    if (typeof ms === 'number' && ms >= LONG_MS && typeof timer === 'object' && timer !== null && 'unref' in timer) timer.unref()
    return timer
  }) as typeof setTimeout
  globalThis.setTimeout = Object.assign(patched, original)
}
