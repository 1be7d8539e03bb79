// Small real files for the media tests: each starts with its format's signature, so content sniffing
// recognises it (a PNG is a complete, decodable image).
import { deflateSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (buf: Buffer) => {
  let c = 0xffffffff
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
const chunk = (type: string, data: Buffer) => {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** An RGB PNG of random pixels (incompressible: about width*height*3 bytes). */
export function png(width = 8, height = 8): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8
  ihdr[9] = 2
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width * 3)])))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** A PNG of about `bytes` bytes. */
export const pngOfSize = (bytes: number) => png(Math.ceil(Math.sqrt(bytes / 3)), Math.ceil(Math.sqrt(bytes / 3)))

/** An MP4 header (ftyp isom) followed by filler. */
export const mp4 = () => Buffer.concat([Buffer.from('00000018667479706973366d0000020069736f6d69736f32', 'hex'), randomBytes(512)])

/** An Ogg page carrying an Opus header, followed by filler. */
export function oggOpus(): Buffer {
  const page = Buffer.alloc(28)
  page.write('OggS', 0, 'ascii')
  page[5] = 2
  page[26] = 1
  page[27] = 19
  const head = Buffer.concat([Buffer.from('OpusHead', 'ascii'), Buffer.from([1, 1, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0])])
  return Buffer.concat([page, head, randomBytes(256)])
}

export const pdf = () => Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')

/** A WebP (VP8L) header followed by filler. */
export function webp(): Buffer {
  const body = Buffer.concat([Buffer.from('WEBPVP8L', 'ascii'), Buffer.from([0x0a, 0, 0, 0, 0x2f, 0, 0, 0, 0]), randomBytes(1)])
  const size = Buffer.alloc(4)
  size.writeUInt32LE(body.length)
  return Buffer.concat([Buffer.from('RIFF', 'ascii'), size, body])
}

export const html = () => Buffer.from('<!doctype html><html><head><title>Not an image</title></head><body>hello</body></html>')
