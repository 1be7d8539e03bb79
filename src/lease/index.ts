// The session lease: one WhatsApp socket per client id across instances (Postgres mode), and the
// folder lock that keeps a second local process off a file-mode session folder.
export { createLeaseManager, type LeaseManager } from './manager.js'
export { resolveLeaseOptions, type ResolvedLeaseOptions } from './options.js'
export { LeaseHolder } from './holder.js'
export { defaultLeaseOwner } from './owner.js'
export { TimeoutError } from '../lib/timeout.js'
export { acquireFolderLock, SessionFolderLockedError, type FolderLock, type FolderLockOptions, type LockOwner } from './folder-lock.js'
export type {
  AcquireResult, HoldOptions, LeaseClock, LeaseManagerOptions, LeaseRole, LeaseRow, LeaseSql, LeaseState, LostReason,
} from './types.js'
export { createLeaseService, type LeaseService, type LeaseServiceOptions } from './service.js'
export { registerLeaseGauges, type LeaseStateSource } from './metrics.js'
