// The media of a send, from any of its three inputs (an https URL the server fetches, base64 in the
// JSON body, a multipart upload already spooled by the route), checked and ready for Baileys: a file
// path it streams from, or the decoded buffer.
import { Readable } from 'node:stream'
import type { Clock } from '../../lib/clock.js'
import type { MediaSendType } from '../../schemas/send.js'
import { MessageError } from '../errors.js'
import type { MediaFetcher } from './fetch.js'
import { checkMediaType } from './sniff.js'
import { SNIFF_BYTES, spool, TooLargeError, type SpooledFile } from './spool.js'

export interface MediaSpec {
  url?: string
  base64?: string
  upload?: string
  mimetype?: string
}

export interface PreparedMedia {
  /** What Baileys reads: a local file (streamed) or the bytes. */
  source: { url: string } | Buffer
  mimetype: string
  size: number
  cleanup(): Promise<void>
}

export interface MediaContext {
  fetcher: MediaFetcher
  maxBytes: number
  clock: Clock
  /** The spooled file part of a multipart request, by part name. */
  uploads?: ReadonlyMap<string, SpooledFile>
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/
const BASE64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/

export function decodeBase64(text: string, maxBytes: number): Buffer {
  const compact = text.replace(/\s+/g, '')
  if (compact.length === 0) throw new MessageError('INVALID_BASE64', 'media.base64 is empty: put the file in it, base64-encoded.')
  // Each test reads the whole text (hundreds of KB): the standard alphabet's answer is kept.
  const standard = BASE64.test(compact)
  if (!standard && !BASE64URL.test(compact)) {
    throw new MessageError('INVALID_BASE64', 'media.base64 is not base64: only A-Z a-z 0-9 + / (or - _) and = padding, no data: prefix.')
  }
  if (Math.floor((compact.length * 3) / 4) - 2 > maxBytes) throw new TooLargeError(maxBytes)
  const bytes = Buffer.from(compact, standard ? 'base64' : 'base64url')
  if (bytes.length > maxBytes) throw new TooLargeError(maxBytes)
  return bytes
}

export function sourceCount(media: MediaSpec): number {
  return [media.url, media.base64, media.upload].filter((v) => v !== undefined).length
}

export async function prepareMedia(type: MediaSendType, media: MediaSpec, ctx: MediaContext): Promise<PreparedMedia> {
  if (sourceCount(media) !== 1) {
    throw new MessageError('VALIDATION_FAILED', 'Invalid request: body.media needs exactly one of url, base64 or upload.', {
      fields: [{ field: 'body.media', problem: 'needs exactly one of url, base64 or upload' }],
    })
  }
  if (media.base64 !== undefined) {
    const bytes = decodeBase64(media.base64, ctx.maxBytes)
    const mimetype = await checkMediaType(type, bytes.subarray(0, SNIFF_BYTES), media.mimetype)
    return { source: bytes, mimetype, size: bytes.length, cleanup: async () => undefined }
  }
  let file: SpooledFile
  if (media.upload !== undefined) {
    const upload = ctx.uploads?.get(media.upload)
    if (!upload) {
      throw new MessageError('INVALID_MULTIPART', `media.upload names the file part "${media.upload}", but the request has no such file part.`)
    }
    file = upload
  } else {
    const fetched = await ctx.fetcher.open(media.url as string, ctx.clock)
    try {
      file = await spool(fetched.body as Readable, ctx.maxBytes)
    } catch (err) {
      fetched.abort()
      if (err instanceof MessageError) throw err
      throw new MessageError('MEDIA_FETCH_FAILED', 'The transfer from the media URL broke off or took too long.', { reason: 'transfer failed' }, { cause: err })
    }
  }
  try {
    const mimetype = await checkMediaType(type, file.head, media.mimetype)
    return { source: { url: file.path }, mimetype, size: file.size, cleanup: file.cleanup }
  } catch (err) {
    await file.cleanup()
    throw err
  }
}
