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

t.test('groups: <digits>@g.us or <digits>-<digits>@g.us, nothing looser', async (t) => {
  t.equal(toJid('14155550123-1514038461@g.us'), '14155550123-1514038461@g.us')
  for (const bad of ['-----@g.us', '12345-@g.us', '-12345@g.us', '12345--67890@g.us', '12345-67890-11111@g.us', 'abc@g.us']) {
    t.throws(() => toJid(bad), { code: 'INVALID_PHONE' }, bad)
  }
})

t.test('well-formed JIDs that are not chats: UNSUPPORTED_RECIPIENT with a sentence saying what to do', async (t) => {
  const cases: [string, RegExp][] = [
    ['status@broadcast', /Status updates/],
    ['1234567890@broadcast', /broadcast lists/],
    ['120363000000000000@newsletter', /Channels/],
    ['13135550002@bot', /bots/],
    ['14155550123@c.us', /@s\.whatsapp\.net/],
  ]
  for (const [jid, why] of cases) {
    let caught: unknown = null
    try {
      toJid(jid)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof SessionError && caught.code === 'UNSUPPORTED_RECIPIENT', `${jid} is unsupported`)
    t.match((caught as Error).message, why, jid)
  }
})
