export { createPostgresBackend, type PostgresBackend, type PostgresBackendOptions } from './backend.js'
