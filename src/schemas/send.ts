// The body of POST /send: one variant per message type, discriminated by `type` (a body without `type`
// is a text message, as before). Every variant refuses unknown fields.
import { Type, type Static, type TObject, type TProperties, type TUnsafe } from '@sinclair/typebox'
import { ClientId } from './common.js'

export const Recipient = Type.String({
  minLength: 1,
  maxLength: 128,
  description:
    'A phone number in international format (digits, optional +, spaces and dashes), a user JID ' +
    '(<digits>@s.whatsapp.net, or a LID <digits>@lid) or a group JID (<digits>@g.us or <digits>-<digits>@g.us). ' +
    'Status updates (status@broadcast), broadcast lists and channels (@newsletter) are refused with UNSUPPORTED_RECIPIENT.',
  examples: ['+1 415-555-0123', '14155550123@s.whatsapp.net'],
})

/** A WhatsApp message id, as the API returns it. */
const MessageId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', examples: ['3EB0C431C26A1916E2A8'], description })

export const Media = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 9, maxLength: 4096, pattern: '^https://', description: 'An https URL the server fetches (size, time and content checked)' })),
    // No minLength: Ajv counts a string's length character by character (hundreds of KB here); an empty
    // value is INVALID_BASE64 when it is decoded.
    base64: Type.Optional(Type.String({ description: 'The file, base64-encoded (no data: prefix); held in memory, prefer url or an upload for large files' })),
    upload: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'multipart/form-data only: the name of the file part (the form sets it)' })),
    mimetype: Type.Optional(Type.String({ minLength: 3, maxLength: 255, pattern: '^[a-zA-Z0-9!#$&^_.+-]+/[a-zA-Z0-9!#$&^_.+-]+(;.*)?$', description: 'Declared type; checked against the bytes' })),
  },
  { additionalProperties: false, description: 'Exactly one of url, base64 or upload' },
)

const common = {
  clientId: Type.Optional(ClientId),
  queue: Type.Optional(Type.Boolean({ description: 'When the session is not open, answer 202 and send it once it is (in order, paced)' })),
}
const content = {
  to: Recipient,
  quotedMessageId: Type.Optional(MessageId('Reply to this message (sent or received in this chat, still stored)')),
  ...common,
}
const Caption = Type.Optional(Type.String({ minLength: 1, maxLength: 4096 }))
const Seconds = Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'Duration shown to the recipient (computed from the file when omitted)' }))
const variant = <K extends string, T extends TProperties>(type: K, props: T, description: string) =>
  Type.Object({ type: Type.Literal(type, type === 'text' ? { default: 'text' } : {}), ...props }, { additionalProperties: false, description })

export const TextSend = variant('text', {
  ...content,
  text: Type.String({ minLength: 1, maxLength: 65536, examples: ['Your appointment is confirmed.'] }),
  linkPreview: Type.Optional(Type.Boolean({ default: false, description: 'Generate a preview of the first link (the server fetches it); off by default' })),
}, 'A text message (the default when type is omitted)')
export const ImageSend = variant('image', { ...content, media: Media, caption: Caption }, 'A JPEG, PNG or WebP image')
export const VideoSend = variant('video', { ...content, media: Media, caption: Caption }, 'An MP4 or 3GP video')
export const AudioSend = variant('audio', { ...content, media: Media, seconds: Seconds }, 'An audio file (OGG, MP3, M4A, AAC, AMR)')
export const VoiceSend = variant('voice', { ...content, media: Media, seconds: Seconds }, 'A voice note (push to talk): OGG/Opus')
export const DocumentSend = variant('document', {
  ...content,
  media: Media,
  fileName: Type.String({ minLength: 1, maxLength: 255, examples: ['invoice-0042.pdf'] }),
  caption: Caption,
}, 'Any file, shown with its name')
export const StickerSend = variant('sticker', { ...content, media: Media }, 'A WebP sticker')
export const LocationSend = variant('location', {
  ...content,
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
}, 'A location pin')
export const ContactSend = variant('contact', {
  ...content,
  contact: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 256 }),
    phone: Type.String({ minLength: 1, maxLength: 32, description: 'International format' }),
    organization: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  }, { additionalProperties: false }),
}, 'A contact card (vCard)')
const target = { messageId: MessageId('The message (sent or received, still stored) this acts on') }
export const ReactionSend = variant('reaction', {
  ...target,
  ...common,
  emoji: Type.String({ maxLength: 32, description: 'One emoji; an empty string removes the reaction', examples: ['👍', ''] }),
}, 'A reaction to a message (empty emoji: remove it)')
export const EditSend = variant('edit', { ...target, ...common, text: Type.String({ minLength: 1, maxLength: 65536 }) }, 'New text for a message this account sent')
export const DeleteSend = variant('delete', { ...target, ...common }, 'Delete a message this account sent, for everyone')
export const ReadSend = variant('read', { ...target, clientId: Type.Optional(ClientId) }, 'Mark a received message as read (blue ticks)')

const VARIANTS = [
  TextSend, ImageSend, VideoSend, AudioSend, VoiceSend, DocumentSend, StickerSend, LocationSend, ContactSend,
  ReactionSend, EditSend, DeleteSend, ReadSend,
] as const

type Variants = (typeof VARIANTS)[number]
export type SendRequest = Static<Variants>
export type SendType = SendRequest['type']
export const SEND_TYPES = VARIANTS.map((v) => (v as TObject).properties.type.const as SendType)
export const MEDIA_TYPES = ['image', 'video', 'audio', 'voice', 'document', 'sticker'] as const
export type MediaSendType = (typeof MEDIA_TYPES)[number]
export type MediaSend = Extract<SendRequest, { type: MediaSendType }>
export type TargetSend = Extract<SendRequest, { type: 'reaction' | 'edit' | 'delete' | 'read' }>
export type ContentSend = Exclude<SendRequest, TargetSend>

/**
 * Ajv's discriminator: only the variant named by `type` is checked, so an error names the field of
 * that variant ("body.media is required"), not every variant's complaints.
 */
export const SendBody: TUnsafe<SendRequest> = Type.Unsafe<SendRequest>({
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  oneOf: VARIANTS,
  description: 'type selects the message kind (default text). Media: media.url, media.base64 or a multipart upload.',
})

export const SendResponse = Type.Object(
  {
    clientId: Type.String(),
    messageId: Type.String(),
    to: Type.String({ description: 'The normalised JID of the chat' }),
    status: Type.String({ description: 'sent (WhatsApp\'s server has it), read (type read) or pending (queued: 202)' }),
  },
  { examples: [{ clientId: 'rafi-scheme-manager', messageId: '3EB0C431C26A1916E2A8', to: '14155550123@s.whatsapp.net', status: 'sent' }] },
)
