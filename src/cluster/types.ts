// The contract between the instance registry (who is alive, how to reach it, who holds what) and
// its users: request routing, placement of sessions, and the cluster-wide session list.

/** One live server process, as registered in Postgres. */
export interface InstanceInfo {
  /** The process's lease owner id: a lease row's `owner` names the instance holding that session. */
  id: string
  /** How the other instances reach this one (INTERNAL_URL, or derived from Fly's private network); null if not reachable. */
  url: string | null
  /** FLY_MACHINE_ID when running on Fly.io (the target of a `fly-replay` answer). */
  flyMachineId: string | null
  startedAt: Date
  heartbeatAt: Date
}

export interface ClusterDirectory {
  /** This process. */
  readonly self: InstanceInfo
  /** Instances whose heartbeat is fresh (this one included), ordered by id; cached briefly. */
  live(): Promise<InstanceInfo[]>
  /** The instance holding the session's live lease, or null while nobody does (takeover in progress, or no lease). */
  holderOf(clientId: string): Promise<InstanceInfo | null>
}
