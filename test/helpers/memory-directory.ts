// An in-memory ClusterDirectory (src/cluster/types.ts) for routing tests: the test says which instance
// holds which session; every app built with one of its directories sees the same answer.
import type { ClusterDirectory, InstanceInfo } from '../../src/cluster/types.js'

export function instanceInfo(id: string, options: { url?: string | null; flyMachineId?: string | null } = {}): InstanceInfo {
  const at = new Date(0)
  return { id, url: options.url ?? null, flyMachineId: options.flyMachineId ?? null, startedAt: at, heartbeatAt: at }
}

export function createMemoryCluster() {
  const instances = new Map<string, InstanceInfo>()
  const holders = new Map<string, InstanceInfo>()
  return {
    /** Session -> holding instance; a session absent from it has no holder. */
    holders,
    /** The directory as seen by one instance (registered as live). */
    directory(self: InstanceInfo): ClusterDirectory {
      instances.set(self.id, self)
      return {
        self,
        live: async () => [...instances.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        holderOf: async (clientId) => holders.get(clientId) ?? null,
      }
    },
  }
}
