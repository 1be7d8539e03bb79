// The media of a stored message (received or sent), decrypted as it streams from WhatsApp's media
// servers. The media key and the path come from the stored message; the host is WhatsApp's own
// (a host named in a received message is used only when it is one of WhatsApp's, so a crafted
// message cannot make the server fetch an arbitrary address).
import { downloadContentFromMessage, normalizeMessageContent, type MediaType, type proto } from '@whiskeysockets/baileys'
import type { Readable } from 'node:stream'
import { MessageError } from './errors.js'
import type { StoredMessage } from './store/types.js'

const MEDIA_FIELDS = [
  ['imageMessage', 'image'],
  ['videoMessage', 'video'],
  ['audioMessage', 'audio'],
  ['documentMessage', 'document'],
  ['stickerMessage', 'sticker'],
  ['ptvMessage', 'video'],
] as const

type MediaContent = proto.Message.IImageMessage & { fileName?: string | null }

export interface MediaDownload {
  stream: Readable
  mimetype: string
  fileName: string | null
}

const DEFAULT_HOST = 'mmg.whatsapp.net'

function hostOf(url: string | null | undefined): string {
  if (!url) return DEFAULT_HOST
  try {
    const host = new URL(url).host
    return host === 'whatsapp.net' || host.endsWith('.whatsapp.net') ? host : DEFAULT_HOST
  } catch {
    return DEFAULT_HOST
  }
}

export function mediaOf(stored: StoredMessage): { content: MediaContent; type: MediaType } | null {
  const message = normalizeMessageContent(stored.message.message)
  const doc = message?.documentWithCaptionMessage?.message?.documentMessage
  if (doc) return { content: doc as MediaContent, type: 'document' }
  for (const [field, type] of MEDIA_FIELDS) {
    const content = message?.[field] as MediaContent | null | undefined
    if (content) return { content, type }
  }
  return null
}

export async function downloadMedia(stored: StoredMessage): Promise<MediaDownload> {
  const media = mediaOf(stored)
  if (!media || !media.content.mediaKey || !(media.content.directPath || media.content.url)) {
    throw new MessageError('MESSAGE_HAS_NO_MEDIA', `Message ${stored.id} carries no downloadable media.`, { messageId: stored.id })
  }
  const { content, type } = media
  let stream: Readable
  try {
    stream = await downloadContentFromMessage(
      { mediaKey: content.mediaKey, directPath: content.directPath, url: content.url ?? undefined },
      type,
      { host: hostOf(content.url) } as Parameters<typeof downloadContentFromMessage>[2],
    )
  } catch (err) {
    throw new MessageError('MEDIA_DOWNLOAD_FAILED', 'WhatsApp\'s media server did not return the file.', { messageId: stored.id }, { cause: err })
  }
  return { stream, mimetype: content.mimetype ?? 'application/octet-stream', fileName: content.fileName ?? null }
}
