// Schemas of POST /send.
import { Type } from '@sinclair/typebox'
import { ClientId } from './common.js'

export const SendBody = Type.Object(
  {
    to: Type.String({
      minLength: 1,
      maxLength: 128,
      description:
        'A phone number in international format (digits, optional +, spaces and dashes), a user JID ' +
        '(<digits>@s.whatsapp.net, or a LID <digits>@lid) or a group JID (<digits>@g.us or <digits>-<digits>@g.us). ' +
        'Status updates (status@broadcast), broadcast lists and channels (@newsletter) are refused with UNSUPPORTED_RECIPIENT.',
      examples: ['+1 415-555-0123', '14155550123@s.whatsapp.net'],
    }),
    text: Type.String({ minLength: 1, maxLength: 65536, examples: ['Your appointment is confirmed.'] }),
    clientId: Type.Optional(ClientId),
  },
  { additionalProperties: false },
)

export const SendResponse = Type.Object(
  { clientId: Type.String(), messageId: Type.String(), to: Type.String({ description: 'The normalised JID' }) },
  { examples: [{ clientId: 'rafi-scheme-manager', messageId: '3EB0C431C26A1916E2A8', to: '14155550123@s.whatsapp.net' }] },
)
