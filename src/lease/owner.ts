import { randomBytes } from 'node:crypto'

/**
 * An owner id unique to this process: the machine (FLY_MACHINE_ID on Fly.io, else the hostname),
 * the pid, and a random suffix. The suffix matters: a restarted process must not inherit the lease
 * of the process it replaces (that one may still hold a socket); it takes over after expiry or release.
 * The caller passes what it read from the environment (config.ts), nothing is read here.
 */
export function defaultLeaseOwner(input: { machineId?: string; hostname: string; pid: number }): string {
  const machine = (input.machineId || input.hostname || 'unknown').slice(0, 150)
  return `${machine}:${input.pid}:${randomBytes(4).toString('hex')}`
}
