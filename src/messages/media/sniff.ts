// Which files each message type accepts, decided on the bytes (file-type reads their signature), not
// on a name or a declared header: a URL that serves an HTML page for an image is refused.
import { fileTypeFromBuffer } from 'file-type'
import type { MediaSendType } from '../../schemas/send.js'
import { MessageError } from '../errors.js'

const ALLOWED: Record<Exclude<MediaSendType, 'document'>, readonly string[]> = {
  image: ['image/jpeg', 'image/png', 'image/webp'],
  sticker: ['image/webp'],
  video: ['video/mp4', 'video/3gpp', 'video/quicktime'],
  audio: ['audio/ogg', 'audio/opus', 'audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/aac', 'audio/amr', 'audio/wav', 'audio/x-wav'],
  voice: ['audio/ogg', 'audio/opus'],
}

const base = (mime: string) => mime.split(';')[0].trim().toLowerCase()
/** Names of one format that file-type and senders spell differently. */
const ALIASES: Record<string, string> = { 'audio/opus': 'audio/ogg', 'audio/x-m4a': 'audio/mp4', 'audio/x-wav': 'audio/wav', 'image/jpg': 'image/jpeg' }
const same = (a: string, b: string) => (ALIASES[a] ?? a) === (ALIASES[b] ?? b)

/**
 * The mimetype to send: the detected one for everything but documents (a declared mimetype must
 * agree with it), the declared or detected one for documents. MEDIA_TYPE_MISMATCH otherwise.
 */
export async function checkMediaType(type: MediaSendType, head: Buffer, declared?: string): Promise<string> {
  if (head.length === 0) throw new MessageError('MEDIA_TYPE_MISMATCH', 'The media is empty.', { type, detected: null })
  const detected = await fileTypeFromBuffer(head)
  if (type === 'document') return declared ?? detected?.mime ?? 'application/octet-stream'
  const accepted = ALLOWED[type]
  const mime = detected ? base(detected.mime) : null
  if (!mime || !accepted.includes(mime)) {
    throw new MessageError(
      'MEDIA_TYPE_MISMATCH',
      `${/^[aeiou]/.test(type) ? 'An' : 'A'} ${type} must be ${accepted.join(', ')}; the bytes are ${mime ?? 'not a known media format'}.`,
      { type, detected: mime, accepted },
    )
  }
  if (declared && !same(base(declared), mime)) {
    throw new MessageError('MEDIA_TYPE_MISMATCH', `media.mimetype says ${base(declared)} but the bytes are ${mime}.`, { type, detected: mime, declared })
  }
  if (type === 'voice') return 'audio/ogg; codecs=opus'
  return declared ?? mime
}
