// What a message says, by kind: the normalised `type` and the fields of that kind. Wrappers
// (ephemeral, view once, document with caption, edited, device sent) are unwrapped first; protocol
// traffic that is not something a user did (history sync notices, key shares, sender key
// distribution only) is no event at all (null).
import { getContentType, normalizeMessageContent, proto, toNumber } from '@whiskeysockets/baileys'

export const MESSAGE_TYPES = [
  'text', 'image', 'video', 'audio', 'voice', 'document', 'sticker', 'location', 'contact',
  'reaction', 'reply', 'edit', 'revoke', 'poll', 'unknown',
] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

export interface MediaInfo {
  mimetype: string | null
  size: number | null
  fileName: string | null
  seconds: number | null
}

export interface Content {
  type: MessageType
  text: string | null
  media: MediaInfo | null
  quoted: { id: string; participant: string | null } | null
  extra: Record<string, unknown>
}

const num = (v: number | Long | null | undefined): number | null => (v === null || v === undefined ? null : toNumber(v))
type Long = Parameters<typeof toNumber>[0] & object

function mediaInfo(m: { mimetype?: string | null; fileLength?: number | Long | null; fileName?: string | null; seconds?: number | null }): MediaInfo {
  return { mimetype: m.mimetype ?? null, size: num(m.fileLength), fileName: m.fileName ?? null, seconds: m.seconds ?? null }
}

function quotedOf(info: proto.IContextInfo | null | undefined): Content['quoted'] {
  if (!info?.stanzaId || !info.quotedMessage) return null
  return { id: info.stanzaId, participant: info.participant ?? null }
}

const base = (type: MessageType, text: string | null = null): Content => ({ type, text, media: null, quoted: null, extra: {} })

/** The text a (possibly edited) message carries: plain, extended, or a media caption. */
export function textOf(m: proto.IMessage | null | undefined): string | null {
  const c = normalizeMessageContent(m)
  if (!c) return null
  return c.conversation ?? c.extendedTextMessage?.text ?? c.imageMessage?.caption ?? c.videoMessage?.caption ?? c.documentMessage?.caption ?? null
}

function protocol(p: proto.Message.IProtocolMessage): Content | null {
  const T = proto.Message.ProtocolMessage.Type
  const targetId = p.key?.id ?? null
  if (p.type === T.REVOKE) return { ...base('revoke'), extra: { revoke: { targetId } } }
  if (p.type === T.MESSAGE_EDIT) {
    const text = textOf(p.editedMessage)
    return { ...base('edit', text), extra: { edit: { targetId, text } } }
  }
  return null
}

const MEDIA_KINDS = {
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  documentMessage: 'document',
  stickerMessage: 'sticker',
} as const

/** The normalised content of a message, or null when it is protocol traffic rather than a user's act. */
export function contentOf(message: proto.IMessage | null | undefined): Content | null {
  const raw = message?.deviceSentMessage?.message ?? message
  const c = normalizeMessageContent(raw)
  const kind = getContentType(c ?? undefined)
  if (!c || !kind) return null
  switch (kind) {
    case 'conversation':
      return base('text', c.conversation ?? '')
    case 'extendedTextMessage': {
      const quoted = quotedOf(c.extendedTextMessage?.contextInfo)
      return { ...base(quoted ? 'reply' : 'text', c.extendedTextMessage?.text ?? ''), quoted }
    }
    case 'imageMessage':
    case 'videoMessage':
    case 'ptvMessage':
    case 'documentMessage':
    case 'stickerMessage': {
      const m = c[kind] as proto.Message.IImageMessage & proto.Message.IDocumentMessage & proto.Message.IVideoMessage
      return { ...base(MEDIA_KINDS[kind], m.caption ?? null), media: mediaInfo(m), quoted: quotedOf(m.contextInfo) }
    }
    case 'audioMessage': {
      const m = c.audioMessage as proto.Message.IAudioMessage
      return { ...base(m.ptt ? 'voice' : 'audio'), media: mediaInfo(m), quoted: quotedOf(m.contextInfo) }
    }
    case 'locationMessage':
    case 'liveLocationMessage': {
      const m = (c.locationMessage ?? c.liveLocationMessage) as proto.Message.ILocationMessage
      return {
        ...base('location', m.comment ?? null),
        extra: { location: { latitude: m.degreesLatitude ?? null, longitude: m.degreesLongitude ?? null, name: m.name ?? null, address: m.address ?? null, live: kind === 'liveLocationMessage' } },
      }
    }
    case 'contactMessage':
      return { ...base('contact'), extra: { contacts: [{ displayName: c.contactMessage?.displayName ?? null, vcard: c.contactMessage?.vcard ?? null }] } }
    case 'contactsArrayMessage':
      return {
        ...base('contact'),
        extra: { contacts: (c.contactsArrayMessage?.contacts ?? []).map((x) => ({ displayName: x.displayName ?? null, vcard: x.vcard ?? null })) },
      }
    case 'reactionMessage': {
      const r = c.reactionMessage as proto.Message.IReactionMessage
      return { ...base('reaction'), extra: { reaction: { emoji: r.text ?? '', targetId: r.key?.id ?? null } } }
    }
    case 'pollCreationMessage':
    case 'pollCreationMessageV2':
    case 'pollCreationMessageV3': {
      const p = c[kind] as proto.Message.IPollCreationMessage
      return {
        ...base('poll', p.name ?? null),
        extra: { poll: { name: p.name ?? null, options: (p.options ?? []).map((o) => o.optionName ?? ''), selectableCount: p.selectableOptionsCount ?? 0 } },
      }
    }
    case 'pollUpdateMessage':
      // A vote: its choice is encrypted for the poll's creator; the event says which poll it is for.
      return { ...base('poll'), extra: { pollVote: { targetId: c.pollUpdateMessage?.pollCreationMessageKey?.id ?? null } } }
    case 'protocolMessage':
      return protocol(c.protocolMessage as proto.Message.IProtocolMessage)
    default:
      return { ...base('unknown'), extra: { kind } }
  }
}
