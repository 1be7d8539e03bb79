export { createSessionDatabase, type SessionDatabase, type DatabaseSession, type DatabaseCopy, type SessionDatabaseOptions } from './database.js'
export { DatabaseError, isConnectionError } from './errors.js'
export { StaleFencingTokenError, VersionConflictError } from '../errors.js'
