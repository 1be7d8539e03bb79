// WhatsApp's media servers, faked: an HTTPS server (the fixture certificate in media-tls.ts) that takes
// uploads the way Baileys makes them (POST /mms/<type>/<encSha256>?auth=…) and serves the encrypted
// files at their direct paths, plus the `w:m` media_conn iq that tells Baileys where to upload. Its
// host names are WhatsApp's own (mmg.whatsapp.net): test code routes them here (media-redirect.ts).
// Also what a contact's phone does with media: decrypt what it received, encrypt what it sends.
import { createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { readFile, unlink } from 'node:fs/promises'
import { encryptedStream, getMediaKeys, type BinaryNode, type MediaType } from '@whiskeysockets/baileys'
import { MEDIA_TLS_CERT, MEDIA_TLS_KEY } from './media-tls.js'

export const MEDIA_HOST = 'mmg.whatsapp.net'

export interface StoredMedia {
  directPath: string
  bytes: Buffer
}

export interface FakeMedia {
  port: number
  /** The uploads it keeps (every one unless `keepUploads` is set), oldest first. */
  uploads: StoredMedia[]
  /** How many files were uploaded, kept or not. */
  uploadCount(): number
  /** While on, every upload is answered 500 with no URL (a media host that takes nothing). */
  refuseUploads(on: boolean): void
  /** How many uploads were refused. */
  refusedCount(): number
  /** Makes an encrypted file downloadable; returns its direct path. */
  host(bytes: Buffer): string
  /** GET requests the media server answered, by path. */
  downloads: string[]
  close(): Promise<void>
}

/**
 * `keepUploads`: how many uploaded files to keep, oldest dropped first (default: all). A long benchmark
 * sets it so the fake's memory stays flat instead of growing by every image it was sent.
 */
export async function startFakeMedia({ keepUploads = Infinity }: { keepUploads?: number } = {}): Promise<FakeMedia> {
  const files = new Map<string, Buffer>()
  const uploads: StoredMedia[] = []
  let uploadCount = 0
  let refusing = false
  let refusedCount = 0
  const downloads: string[] = []
  const host = (bytes: Buffer): string => {
    const directPath = `/v/t62.7118-24/${randomBytes(12).toString('hex')}.enc?ccb=11-4&oh=${randomBytes(8).toString('hex')}`
    files.set(directPath, bytes)
    return directPath
  }
  const server: Server = createServer({ key: MEDIA_TLS_KEY, cert: MEDIA_TLS_CERT }, (req, res) => {
    const url = req.url ?? '/'
    if (req.method === 'POST' && url.startsWith('/mms/')) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (refusing) {
          refusedCount++
          res.writeHead(500, { 'content-type': 'application/json' })
          res.end('{}')
          return
        }
        const bytes = Buffer.concat(chunks)
        const directPath = host(bytes)
        uploads.push({ directPath, bytes })
        uploadCount++
        while (uploads.length > keepUploads) files.delete((uploads.shift() as StoredMedia).directPath)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ url: `https://${MEDIA_HOST}${directPath}`, direct_path: directPath }))
      })
      return
    }
    const file = req.method === 'GET' ? files.get(url) : undefined
    downloads.push(url)
    if (!file) {
      res.writeHead(404)
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.length) })
    res.end(file)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    uploads,
    uploadCount: () => uploadCount,
    refuseUploads: (on) => void (refusing = on),
    refusedCount: () => refusedCount,
    host,
    downloads,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** The `w:m` media_conn answer: one upload host, WhatsApp's. */
export const mediaConnNodes = (): BinaryNode[] => [
  {
    tag: 'media_conn',
    attrs: { auth: randomBytes(16).toString('base64url'), ttl: '3600', auth_ttl: '3600', max_buckets: '12' },
    content: [{ tag: 'host', attrs: { hostname: MEDIA_HOST, maxContentLengthBytes: '104857600' } }],
  },
]

/** Decrypts an uploaded file the way a recipient does: checks the MAC, then AES-256-CBC. */
export async function decryptMedia(enc: Buffer, mediaKey: Uint8Array, type: MediaType): Promise<Buffer> {
  const { cipherKey, iv, macKey } = await getMediaKeys(mediaKey, type)
  if (!cipherKey || !iv || !macKey) throw new Error('no media keys')
  const body = enc.subarray(0, -10)
  const mac = createHmac('sha256', macKey).update(iv).update(body).digest().subarray(0, 10)
  if (!mac.equals(enc.subarray(-10))) throw new Error('media MAC mismatch')
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv)
  return Buffer.concat([decipher.update(body), decipher.final()])
}

/** Encrypts a file as a sender's phone does and hosts it; returns the fields of its media message. */
export async function encryptAndHost(media: FakeMedia, bytes: Buffer, type: MediaType) {
  const enc = await encryptedStream(bytes, type)
  try {
    const encrypted = await readFile(enc.encFilePath)
    const directPath = media.host(encrypted)
    return {
      url: `https://${MEDIA_HOST}${directPath}`,
      directPath,
      mediaKey: enc.mediaKey,
      fileSha256: enc.fileSha256,
      fileEncSha256: enc.fileEncSha256,
      fileLength: enc.fileLength,
    }
  } finally {
    await unlink(enc.encFilePath).catch(() => undefined)
  }
}
