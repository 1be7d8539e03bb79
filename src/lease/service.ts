// The lease as the pair script uses it: its own small pool (lease statements must not
// queue behind key writes) and a LeaseManager for this process's owner id. Nothing here outlives close().
import type { Logger } from 'pino'
import { createSql } from '../db/index.js'
import { createLeaseManager, type LeaseManager } from './manager.js'

export interface LeaseServiceOptions {
  databaseUrl: string
  owner: string
  ttlMs: number
  logger?: Logger
}

export interface LeaseService {
  manager: LeaseManager
  close(): Promise<void>
}

export function createLeaseService({ databaseUrl, owner, ttlMs, logger }: LeaseServiceOptions): LeaseService {
  const log = logger?.child({ component: 'lease' })
  // connect_timeout in whole seconds, below the statement timeout's share of the ttl where possible.
  const sql = createSql(databaseUrl, { max: 2, connectTimeout: Math.max(1, Math.floor(ttlMs / 3000)), logger: log })
  const manager = createLeaseManager({ sql, owner, ttlMs, ...(log ? { logger: log } : {}) })
  return {
    manager,
    close: () => sql.end({ timeout: 2 }),
  }
}
