// Session lease (issue 5): one WhatsApp socket per client id across instances. See
// /work/notes/deploy.md "Session lease" for the wiring and the takeover bound.
export { createLeaseManager, resolveLeaseOptions, type LeaseManager, type ResolvedLeaseOptions } from './manager.js'
export { LeaseHolder } from './holder.js'
export { defaultLeaseOwner } from './owner.js'
export { TimeoutError } from '../lib/timeout.js'
export { acquireFolderLock, SessionFolderLockedError, type FolderLock, type FolderLockOptions, type LockOwner } from './file-lock.js'
export type {
  AcquireResult, HoldOptions, LeaseClock, LeaseManagerOptions, LeaseRole, LeaseRow, LeaseSql, LeaseState, LostReason,
} from './types.js'
export { createLeaseService, type LeaseService, type LeaseServiceOptions } from './service.js'
