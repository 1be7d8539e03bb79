export { createPostgresBackend, DatabaseError, type PostgresBackend, type PostgresBackendOptions } from './backend.js'
export { isConnectionError } from './errors.js'
export { StaleFencingTokenError, VersionConflictError } from '../errors.js'
