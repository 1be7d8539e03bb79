import t from 'tap'
import { normalisePhone, toJid } from '../../src/whatsapp/jid.js'
import { SessionError } from '../../src/whatsapp/errors.js'

t.test('phone numbers become user JIDs', async (t) => {
  t.equal(toJid('+1 415-555-0123'), '14155550123@s.whatsapp.net')
  t.equal(toJid('14155550123'), '14155550123@s.whatsapp.net')
  t.equal(toJid(' +44 (0) 7700.900123 '.replace('(0) ', '')), '447700900123@s.whatsapp.net')
  t.equal(toJid('0044 7700 900123'), '447700900123@s.whatsapp.net')
})

t.test('JIDs are kept (lowercased)', async (t) => {
  t.equal(toJid('14155550123@s.whatsapp.net'), '14155550123@s.whatsapp.net')
  t.equal(toJid('14155550123:7@S.WHATSAPP.NET'), '14155550123:7@s.whatsapp.net')
  t.equal(toJid('120363025246125486@g.us'), '120363025246125486@g.us')
  t.equal(toJid('123456789012345@lid'), '123456789012345@lid')
})

t.test('invalid input is a SessionError INVALID_PHONE with a sentence', async (t) => {
  for (const bad of ['', 'abc', '+', '12345', '1234567890123456', '07700900123', '+1 415 abc', 'foo@bar.com', '@s.whatsapp.net', '1+2345678']) {
    let caught: unknown = null
    try {
      toJid(bad)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof SessionError && caught.code === 'INVALID_PHONE' && caught.message.length > 20, `rejects ${JSON.stringify(bad)}`)
  }
})

t.test('normalisePhone returns digits only', async (t) => {
  t.equal(normalisePhone('+49 30 1234567'), '49301234567')
})
