// Writes incoming media (a fetched URL, an uploaded file part) to a private temp file as it arrives:
// never the whole file in memory, the size limit enforced byte by byte, its SHA-256 (the idempotency
// fingerprint of an upload) and its first bytes (for content sniffing) computed on the way. Baileys
// then reads the file as a stream.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { MessageError } from '../errors.js'

/** Enough for every signature file-type knows. */
export const SNIFF_BYTES = 4100

export interface SpooledFile {
  path: string
  size: number
  sha256: string
  head: Buffer
  /** Removes the file (idempotent). */
  cleanup(): Promise<void>
}

export class TooLargeError extends MessageError {
  constructor(maxBytes: number) {
    super('MEDIA_TOO_LARGE', `The media is larger than ${maxBytes} bytes (MEDIA_MAX_BYTES).`, { maxBytes })
  }
}

export async function spool(source: Readable, maxBytes: number): Promise<SpooledFile> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-media-'))
  const path = join(dir, 'media')
  const cleanup = () => rm(dir, { recursive: true, force: true })
  const hash = createHash('sha256')
  const heads: Buffer[] = []
  let headSize = 0
  let size = 0
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length
      if (size > maxBytes) return done(new TooLargeError(maxBytes))
      hash.update(chunk)
      if (headSize < SNIFF_BYTES) {
        heads.push(chunk.subarray(0, SNIFF_BYTES - headSize))
        headSize += Math.min(chunk.length, SNIFF_BYTES - headSize)
      }
      done(null, chunk)
    },
  })
  try {
    await pipeline(source, meter, createWriteStream(path, { mode: 0o600 }))
  } catch (err) {
    await cleanup()
    throw err
  }
  return { path, size, sha256: hash.digest('hex'), head: Buffer.concat(heads), cleanup }
}
