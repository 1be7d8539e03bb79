// Placement: which live instance should hold each session. Rendezvous (highest random weight)
// hashing with bounded loads: every instance scores every client id with a stable hash of (instance
// id, client id); the client ids, in sorted order, each go to the best-scoring instance that holds
// fewer than ceil(n/k) + 1 of them. Every instance computes the same answer from the same lists (the
// live instances, the linked sessions), so no state is shared beyond them; no instance holds more than
// one over its share (plain rendezvous places each id on its own: 60 ids over 3 instances land
// 20 +- 3.65 each, often 25/20/15); and adding or removing one of N instances still moves about 1/N.
import { createHash } from 'node:crypto'
import type { Clock } from '../lib/clock.js'

/** The score of an instance for a client id: the first 64 bits of sha256(instance id, NUL, client id). */
export function rendezvousWeight(clientId: string, instanceId: string): bigint {
  return createHash('sha256').update(instanceId).update('\0').update(clientId).digest().readBigUInt64BE(0)
}

/** The instance with the highest weight for the client id (ties: the smaller id); null without instances. */
export function preferredInstance(clientId: string, instanceIds: readonly string[]): string | null {
  let best: string | null = null
  let bestWeight = -1n
  for (const id of instanceIds) {
    const w = rendezvousWeight(clientId, id)
    if (w > bestWeight || (w === bestWeight && best !== null && id < best)) {
      best = id
      bestWeight = w
    }
  }
  return best
}

function ranked(clientId: string, instanceIds: readonly string[]): string[] {
  return instanceIds
    .map((id) => ({ id, w: rendezvousWeight(clientId, id) }))
    .sort((a, b) => (a.w > b.w ? -1 : a.w < b.w ? 1 : a.id < b.id ? -1 : 1))
    .map((r) => r.id)
}

/**
 * Rendezvous with bounded loads: each client id (in sorted order) on its highest-weight instance
 * that holds fewer than ceil(n/k) + 1 so far. The slack of one keeps a session on its first choice
 * unless that instance is really over its share (fewer moves when sessions come and go).
 */
export function balancedPlacement(clientIds: Iterable<string>, instanceIds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  if (instanceIds.length === 0) return out
  const ids = [...new Set(clientIds)].sort()
  const cap = Math.ceil(ids.length / instanceIds.length) + 1
  const load = new Map(instanceIds.map((id) => [id, 0]))
  for (const clientId of ids) {
    const order = ranked(clientId, instanceIds)
    const chosen = order.find((id) => (load.get(id) as number) < cap) ?? (order[0] as string)
    load.set(chosen, (load.get(chosen) as number) + 1)
    out.set(clientId, chosen)
  }
  return out
}

export interface PlacementOptions {
  /** This instance's id (its lease owner id). */
  selfId: string
  /**
   * A joining instance must have been live this long before the others hand sessions over to it, so
   * one that crashes right after starting (or flaps) causes no churn.
   */
  settleMs: number
  /** After a pinned session is unpinned, it stays here this long (the preferred instance discovers it meanwhile). */
  unpinGraceMs: number
  /**
   * An instance whose last heartbeat is this old counts as dead (the registry's freshMs). Between two
   * heartbeats of this instance, another one is counted out as soon as its last known heartbeat passes
   * this age, rather than at the next heartbeat here. Default: never between heartbeats.
   */
  freshMs?: number
  clock: Clock
}

/**
 * This instance's view of placement: the live instances (from the registry's heartbeat) and the
 * sessions pinned here (created through this instance and not linked yet: pairing must not move).
 */
export function createPlacement({ selfId, settleMs, unpinGraceMs, freshMs = Infinity, clock }: PlacementOptions) {
  /** Live instance ids from the last heartbeat, sorted. */
  let ids: string[] = [selfId]
  /** Clock time at which each other instance's heartbeat becomes stale unless a later list refreshes it. */
  let staleAt = new Map<string, number>()
  let settled = new Set<string>([selfId])
  let known = false
  /** clientId -> pinned until (clock ms; Infinity while pinned). */
  const pins = new Map<string, number>()
  /** The sessions placement balances (the linked ones registered here), sorted. */
  let members: string[] = []
  /** The balanced placement of the members over the live instances it was computed for. */
  let plan: { instances: string; of: Map<string, string> } | null = null

  /** The instances counted as live right now (this one always). */
  function live(): string[] {
    const now = clock.now()
    return ids.filter((id) => id === selfId || (staleAt.get(id) ?? Infinity) > now)
  }

  /** The instance for a client id: its balanced place, or plain rendezvous for one not balanced (yet). */
  function placeOf(clientId: string): string {
    const instances = live()
    const key = instances.join('\n')
    if (plan?.instances !== key) plan = { instances: key, of: balancedPlacement(members, instances) }
    return plan.of.get(clientId) ?? preferredInstance(clientId, instances) ?? selfId
  }

  function pinned(clientId: string): boolean {
    const until = pins.get(clientId)
    if (until === undefined) return false
    if (until > clock.now()) return true
    pins.delete(clientId)
    return false
  }

  return {
    selfId,
    /**
     * The live instances from a heartbeat (ageMs: how long each has been registered). This instance
     * always counts. Returns whether the list changed (callers wake the standbys then).
     */
    update(instances: readonly { id: string; ageMs: number; heartbeatAgeMs?: number }[]): boolean {
      const next = [...new Set([selfId, ...instances.map((i) => i.id)])].sort()
      const now = clock.now()
      staleAt = new Map(instances.filter((i) => i.id !== selfId).map((i) => [i.id, now + freshMs - (i.heartbeatAgeMs ?? 0)]))
      const nextSettled = new Set([selfId, ...instances.filter((i) => i.ageMs >= settleMs).map((i) => i.id)])
      const changed = !known || next.join('\n') !== ids.join('\n')
      ids = next
      settled = nextSettled
      known = true
      return changed
    },
    /**
     * The sessions to balance: every linked session registered here (the others register the same
     * ones through discovery). One being paired (pinned) is left out until linked, since only this
     * instance knows it. Returns whether the set changed (callers wake the standbys then).
     */
    balance(clientIds: Iterable<string>): boolean {
      const next = [...new Set(clientIds)].filter((id) => pins.get(id) !== Infinity).sort()
      if (next.length === members.length && next.every((id, i) => id === members[i])) return false
      members = next
      plan = null
      return true
    },
    /** Whether a heartbeat has answered yet (before it, this instance acquires nothing it has not pinned). */
    get known(): boolean {
      return known
    },
    /** The instances counted as live now. */
    instances: (): readonly string[] => live(),
    /** When the next instance of the last list becomes stale unless a heartbeat refreshes it (Infinity: none). */
    nextStaleAt(): number {
      return Math.min(Infinity, ...staleAt.values())
    },
    preferred: (clientId: string): string => placeOf(clientId),
    /**
     * null when this instance should try the lease: it is the preferred instance among the live ones
     * (a dead instance is not among them, so its sessions spread over the survivors), or the session
     * is pinned here. Else the preferred instance's id ('' while no heartbeat has answered).
     */
    preferredElsewhere(clientId: string): string | null {
      if (pinned(clientId)) return null
      if (!known) return ''
      const preferred = placeOf(clientId)
      return preferred === selfId ? null : preferred
    },
    /**
     * The instance to hand a session held here over to, or null to keep it: only when the preferred
     * instance is another one that has been live for the settle time, and the session is not pinned.
     */
    handOverTo(clientId: string): string | null {
      if (!known || pinned(clientId)) return null
      const preferred = placeOf(clientId)
      return preferred !== selfId && settled.has(preferred) ? preferred : null
    },
    /** Keeps a session here whatever placement says (a session being paired through this instance). */
    pin(clientId: string): void {
      pins.set(clientId, Infinity)
    },
    /** Placement applies again to the session, after a grace period. */
    unpin(clientId: string): void {
      if (pins.has(clientId)) pins.set(clientId, clock.now() + unpinGraceMs)
    },
    /** Forgets a pin at once (the session was deleted). */
    drop(clientId: string): void {
      pins.delete(clientId)
    },
  }
}

export type Placement = ReturnType<typeof createPlacement>
