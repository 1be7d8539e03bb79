// The sessions' side of the cluster (src/cluster/loop.ts drives it): every linked stored session is
// registered here in standby, so this instance can take it over if its holder dies, whichever
// instance created it and whenever; and a session placement gives to another instance is handed over
// the clean way and waits here in standby again.
import type { Logger } from 'pino'
import type { SessionStore } from '../keystore/types.js'
import type { Session } from './session.js'

export interface ClusterSessionsDeps {
  /** The manager's sessions by client id (read; changed through register and forget). */
  sessions: ReadonlyMap<string, Session>
  /** Client ids registered because they are stored (boot resume, discovery), not created here. */
  adopted: Set<string>
  register(clientId: string): Session
  forget(session: Session): void
  store: Pick<SessionStore, 'list'>
  defaultClientId: string
  log: Logger
  isClosed(): boolean
}

export function createClusterSessions({ sessions, adopted, register, forget, store, defaultClientId, log, isClosed }: ClusterSessionsDeps) {
  /** Registers and starts a stored session in standby (its lease decides where it runs); false if known here. */
  function adopt(clientId: string): boolean {
    if (isClosed() || sessions.has(clientId)) return false
    let session: Session
    try {
      session = register(clientId)
    } catch (err) {
      log.warn({ clientId, code: (err as { code?: unknown }).code }, 'could not take a stored session in standby')
      return false
    }
    adopted.add(clientId)
    session.start().catch(() => undefined)
    return true
  }

  /**
   * Every linked stored session runs here too, in standby, so this instance can take it over
   * if its holder dies, whichever instance created it and whenever. Adopted standbys whose session
   * is no longer stored as linked (deleted or logged out through another instance) stop.
   */
  async function discover(): Promise<{ added: number; dropped: number }> {
    const active = new Set((await store.list()).filter((s) => s.status === 'active').map((s) => s.clientId))
    let added = 0
    let dropped = 0
    for (const clientId of active) if (adopt(clientId)) added++
    for (const session of [...sessions.values()]) {
      const { clientId } = session
      if (!adopted.has(clientId) || active.has(clientId) || clientId === defaultClientId || session.leaseState()?.role !== 'standby') continue
      forget(session)
      dropped++
      await session.stop({ releaseLease: false })
    }
    if (added || dropped) log.info({ added, dropped }, 'stored sessions discovered')
    return { added, dropped }
  }

  /**
   * Clean hand-over to the instance placement prefers: socket closed, keys flushed, lease released
   * (the SIGTERM path, for one session); the session then waits here in standby again.
   */
  async function handOver(clientId: string): Promise<void> {
    const session = sessions.get(clientId)
    if (!session || isClosed() || session.leaseState()?.role !== 'holder') return
    await session.stop()
    forget(session)
    // It is linked (a pinned session is never handed over), so it is stored: adopted from now on.
    adopt(clientId)
  }

  return {
    discover,
    handOver,
    *known(): Generator<string> {
      for (const s of sessions.values()) if (s.state !== 'logged_out') yield s.clientId
    },
    *held(): Generator<string> {
      for (const s of sessions.values()) if (s.leaseState()?.role === 'holder') yield s.clientId
    },
  }
}
