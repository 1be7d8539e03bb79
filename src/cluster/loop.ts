// The cluster's heartbeat loop, one tick per heartbeat period: register this instance and learn the
// live ones (one statement), let placement follow (standbys are woken when the list changed), every
// few ticks discover the sessions stored since (one statement), give placement the sessions to
// balance (standbys are woken when they changed), and hand over at most `batch` held
// sessions that placement now gives to another instance. A tick never waits for hand-overs: they run
// in the background, and no new one starts while `batch` are still in flight, so a join is paced.
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { Placement } from './placement.js'
import type { LiveInstance } from './registry.js'

/** What the loop needs from the sessions of this instance. */
export interface ClusterSessions {
  /** Registers (in standby) every stored linked session not known here yet. */
  discover(): Promise<unknown>
  /** Client ids of the linked sessions registered here, held or in standby (placement balances them). */
  known(): Iterable<string>
  /** Client ids of the sessions whose lease this instance holds. */
  held(): Iterable<string>
  /** Clean hand-over: close the socket, flush, release the lease; the session stays here in standby. */
  handOver(clientId: string): Promise<void>
}

export interface ClusterLoopOptions {
  registry: { beat(): Promise<LiveInstance[]> }
  placement: Placement
  /** Called when the live instances changed (the lease manager asks its standbys again). */
  onChange(): void
  sessions: () => ClusterSessions | null
  heartbeatMs: number
  /** Discovery runs every this many ticks (the first tick included). */
  discoverEvery: number
  /** Hand-overs started per tick, and in flight at most. */
  batch: number
  clock: Clock
  logger?: Logger
}

export function createClusterLoop(options: ClusterLoopOptions) {
  const { registry, placement, heartbeatMs, discoverEvery, batch, clock, logger } = options
  let timer: unknown = null
  /** Fires when an instance of the last list goes stale before the next heartbeat here. */
  let staleTimer: unknown = null
  // From 1: the boot resume has just listed the stored sessions; the first discovery comes a few ticks later.
  let ticks = 1
  let stopped = false
  let running: Promise<void> | null = null
  const handingOver = new Set<string>()
  let handOvers = 0

  async function tick(): Promise<void> {
    let changed = false
    try {
      const live = await registry.beat()
      if (placement.update(live)) {
        logger?.info({ instances: live.map((i) => i.id) }, 'live instances changed')
        changed = true
      }
      watchStaleness()
    } catch (err) {
      logger?.warn({ err }, 'instance heartbeat failed; placement keeps the last known instances')
    }
    const sessions = stopped ? null : options.sessions()
    if (sessions && ticks++ % discoverEvery === 0) {
      await sessions.discover().catch((err: unknown) => logger?.warn({ err }, 'could not list the stored sessions to discover new ones'))
    }
    if (sessions && placement.known && placement.balance(sessions.known())) changed = true
    if (changed) options.onChange()
    if (!sessions || !placement.known || stopped) return
    for (const clientId of sessions.held()) {
      if (handingOver.size >= batch) break
      if (handingOver.has(clientId)) continue
      const to = placement.handOverTo(clientId)
      if (to === null) continue
      handingOver.add(clientId)
      handOvers++
      logger?.info({ clientId, to }, 'placement prefers another instance: handing the session over')
      sessions.handOver(clientId)
        .catch((err: unknown) => logger?.warn({ err, clientId }, 'hand-over failed'))
        .finally(() => handingOver.delete(clientId))
    }
  }

  /** A dead instance is counted out when its heartbeat goes stale, not up to a heartbeat later. */
  function watchStaleness(): void {
    if (staleTimer !== null) clock.clearTimeout(staleTimer)
    staleTimer = null
    const at = placement.nextStaleAt()
    if (stopped || at === Infinity) return
    staleTimer = clock.setTimeout(() => {
      staleTimer = null
      logger?.info({ instances: placement.instances() }, 'an instance stopped heartbeating')
      options.onChange()
    }, Math.max(0, Math.ceil(at - clock.now())))
  }

  function schedule(ms: number): void {
    if (stopped) return
    timer = clock.setTimeout(() => {
      timer = null
      running = tick().finally(() => {
        running = null
        schedule(heartbeatMs)
      })
    }, ms)
  }

  return {
    /** The first tick runs at once. */
    start(): void {
      if (timer === null && running === null && !stopped) schedule(0)
    },
    /** No more ticks; resolves once the one in flight (not the hand-overs it started) finished. */
    async stop(): Promise<void> {
      stopped = true
      if (timer !== null) clock.clearTimeout(timer)
      if (staleTimer !== null) clock.clearTimeout(staleTimer)
      timer = null
      staleTimer = null
      await running
    },
    /** Hand-overs started so far (metrics, tests). */
    handOvers: () => handOvers,
    /** Hand-overs still running. */
    inFlight: () => handingOver.size,
  }
}

export type ClusterLoop = ReturnType<typeof createClusterLoop>
