// Prometheus gauges of the session lease, read at scrape time from whoever holds the holders (the
// session manager): who holds what (1 = this instance holds it), under which fencing token, takeovers.
import { Gauge, type Registry } from 'prom-client'
import type { LeaseState } from './types.js'

/** The lease state of every running session that has one. */
export type LeaseStateSource = () => Iterable<{ clientId: string; state: LeaseState }>

export function registerLeaseGauges(registry: Registry, source: LeaseStateSource): void {
  const registers = [registry]
  const leased = () => [...source()]
  new Gauge({
    name: 'whatsapp_lease_held',
    help: '1 when this instance holds the session lease (connects), 0 in standby',
    labelNames: ['client_id'] as const,
    registers,
    collect() {
      this.reset()
      for (const { clientId, state } of leased()) this.set({ client_id: clientId }, state.role === 'holder' ? 1 : 0)
    },
  })
  new Gauge({
    name: 'whatsapp_lease_fencing_token',
    help: 'Fencing token of the session lease (ours when held, else the holder\'s last seen)',
    labelNames: ['client_id'] as const,
    registers,
    collect() {
      this.reset()
      for (const { clientId, state } of leased()) if (state.fencingToken !== null) this.set({ client_id: clientId }, state.fencingToken)
    },
  })
  new Gauge({
    name: 'whatsapp_lease_takeovers',
    help: 'Times the session lease changed hands, all instances together (the lease row counter)',
    labelNames: ['client_id'] as const,
    registers,
    collect() {
      this.reset()
      for (const { clientId, state } of leased()) this.set({ client_id: clientId }, state.takeovers)
    },
  })
  new Gauge({
    name: 'whatsapp_lease_events',
    help: 'This instance\'s lease events since it started: acquisitions, renewals, renew failures, losses',
    labelNames: ['client_id', 'event'] as const,
    registers,
    collect() {
      this.reset()
      for (const { clientId, state } of leased()) {
        this.set({ client_id: clientId, event: 'acquired' }, state.acquisitions)
        this.set({ client_id: clientId, event: 'renewed' }, state.renewals)
        this.set({ client_id: clientId, event: 'renew_failed' }, state.renewFailures)
        this.set({ client_id: clientId, event: 'lost' }, state.losses)
      }
    },
  })
}
