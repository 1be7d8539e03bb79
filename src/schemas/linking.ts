// Schemas of the linking routes: GET /qr and POST /pairing-code.
import { Type } from '@sinclair/typebox'
import { ClientId, StringEnum, Timestamp } from './common.js'

export const QrQuery = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    format: Type.Optional(
      StringEnum(['json', 'png', 'terminal'], {
        default: 'json',
        description: 'json (default), png (image/png) or terminal (text/plain to print in a terminal)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const QrResponse = Type.Object(
  {
    qr: Type.String({ description: 'Raw QR payload; render it or use dataUrl' }),
    dataUrl: Type.String({ description: 'PNG as a data: URL, for an <img src>' }),
    expiresAt: Timestamp,
  },
  { examples: [{ qr: '2@AbC...,xyz...,abc...,def...', dataUrl: 'data:image/png;base64,iVBORw0...', expiresAt: '2025-01-01T12:01:00.000Z' }] },
)

/** GET /qr?format=png: the image bytes. */
export const QrPng = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' })

export const PairingCodeBody = Type.Object(
  {
    phone: Type.String({
      minLength: 1,
      maxLength: 32,
      description: 'The account\'s phone number in international format; spaces and dashes are fine',
      examples: ['+44 7700 900123'],
    }),
    clientId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
)

export const PairingCodeResponse = Type.Object(
  { clientId: Type.String(), pairingCode: Type.String({ description: 'Enter it on the phone: Linked devices > Link with phone number' }) },
  { examples: [{ clientId: 'rafi-scheme-manager', pairingCode: 'ABCD1234' }] },
)
