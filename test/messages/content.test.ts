// From a validated request to Baileys' content: pure.
import t from 'tap'
import type { WAMessage } from '@whiskeysockets/baileys'
import { buildContent, buildTargetContent, vcard } from '../../src/messages/content.js'

const media = { source: { url: '/tmp/x' }, mimetype: 'image/png', size: 10, cleanup: async () => undefined }
const target: WAMessage = { key: { remoteJid: '120363000000000000@g.us', fromMe: false, id: 'ABC', participant: '15550002222@s.whatsapp.net' } }

t.test('content per type', async (t) => {
  t.same(buildContent({ type: 'text', to: 'x', text: 'hi' }), { text: 'hi', linkPreview: null }, 'no link preview by default')
  t.same(buildContent({ type: 'text', to: 'x', text: 'hi', linkPreview: true }), { text: 'hi' }, 'Baileys makes one when asked')
  t.same(buildContent({ type: 'image', to: 'x', media: {}, caption: 'c' }, media), { image: { url: '/tmp/x' }, mimetype: 'image/png', caption: 'c' })
  t.same(buildContent({ type: 'voice', to: 'x', media: {}, seconds: 3 }, { ...media, mimetype: 'audio/ogg; codecs=opus' }),
    { audio: { url: '/tmp/x' }, mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 3 })
  t.same(buildContent({ type: 'document', to: 'x', media: {}, fileName: 'a.pdf' }, { ...media, mimetype: 'application/pdf' }),
    { document: { url: '/tmp/x' }, mimetype: 'application/pdf', fileName: 'a.pdf' })
  t.same(buildContent({ type: 'location', to: 'x', latitude: 1.5, longitude: -2 }), { location: { degreesLatitude: 1.5, degreesLongitude: -2 } })
  t.throws(() => buildContent({ type: 'image', to: 'x', media: {} }), 'media must be prepared first')
})

t.test('reactions, edits and deletes point at the stored message with its participant', async (t) => {
  const key = { remoteJid: '120363000000000000@g.us', fromMe: false, id: 'ABC', participant: '15550002222@s.whatsapp.net' }
  t.same(buildTargetContent({ type: 'reaction', messageId: 'ABC', emoji: '' }, target), { react: { text: '', key } })
  t.same(buildTargetContent({ type: 'edit', messageId: 'ABC', text: 'new' }, target), { text: 'new', edit: key })
  t.same(buildTargetContent({ type: 'delete', messageId: 'ABC' }, target), { delete: key })
})

t.test('vCard text is escaped and the number carries its waid', async (t) => {
  t.equal(vcard({ name: 'A, B; C\\D\nE', phone: '+44 (20) 7946-0000', organization: 'Org;X' }), [
    'BEGIN:VCARD', 'VERSION:3.0', 'FN:A\\, B\\; C\\\\D\\nE', 'ORG:Org\\;X', 'TEL;type=CELL;type=VOICE;waid=442079460000:+442079460000', 'END:VCARD',
  ].join('\n'))
})
