// The lease's timing, resolved once from LeaseManagerOptions and checked for the one rule that keeps
// it safe: a renewal must be able to start, time out and be retried before the local deadline.
import type { LeaseManagerOptions } from './types.js'

export interface ResolvedLeaseOptions {
  owner: string
  ttlMs: number
  renewEveryMs: number
  pollEveryMs: number
  safetyMarginMs: number
  statementTimeoutMs: number
  preferredElsewhere?: (clientId: string) => string | null
}

export function resolveLeaseOptions(options: LeaseManagerOptions): ResolvedLeaseOptions {
  const ttlMs = options.ttlMs ?? 10_000
  const resolved = {
    owner: options.owner,
    ttlMs,
    renewEveryMs: options.renewEveryMs ?? Math.round(ttlMs / 3),
    pollEveryMs: options.pollEveryMs ?? Math.round(ttlMs / 5),
    safetyMarginMs: options.safetyMarginMs ?? Math.round(ttlMs / 5),
    statementTimeoutMs: options.statementTimeoutMs ?? Math.round(ttlMs / 3),
    ...(options.preferredElsewhere ? { preferredElsewhere: options.preferredElsewhere } : {}),
  }
  if (!options.owner || options.owner.length > 200) throw new RangeError('lease owner must be 1..200 characters')
  if (!Number.isInteger(ttlMs) || ttlMs < 100) throw new RangeError('lease ttlMs must be an integer >= 100')
  if (resolved.renewEveryMs + resolved.safetyMarginMs >= ttlMs) {
    throw new RangeError('lease renewEveryMs + safetyMarginMs must be below ttlMs')
  }
  if (resolved.pollEveryMs <= 0 || resolved.statementTimeoutMs <= 0 || resolved.safetyMarginMs <= 0) {
    throw new RangeError('lease pollEveryMs, statementTimeoutMs and safetyMarginMs must be positive')
  }
  return resolved
}
