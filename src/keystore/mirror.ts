// Postgres mode: the database is the source of truth, the file its mirror. (Being written.)
import type { Logger } from 'pino'
import type { Codec } from './codec.js'
import type { ModeDriver } from './driver.js'
import type { FileBackend } from './file/index.js'

export interface PostgresDriverOptions {
  databaseUrl: string
  codec: Codec
  file: FileBackend
  logger?: Logger
}

export async function createPostgresDriver(_options: PostgresDriverOptions): Promise<ModeDriver> {
  throw new Error('Postgres mode is not available yet in this build; unset DATABASE_URL to use file mode.')
}
