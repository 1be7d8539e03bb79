// npm run fake-whatsapp [-- --port 7770]: the fake WhatsApp Web server, standalone, for running the
// server by hand without a phone. Prints how to point the server at it and how to drive it.
// Test-only: it serves certificates from the fixture root, which only the test preload trusts.
import { parseArgs } from 'node:util'
import { startFakeWhatsApp } from '../test/fake-whatsapp/index.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', short: 'p' },
    'lid-first-only': { type: 'boolean' },
  },
})
const port = Number(values.port ?? process.env.FAKE_WA_PORT ?? 7770)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${values.port ?? process.env.FAKE_WA_PORT}`)
  process.exit(2)
}

const fake = await startFakeWhatsApp({
  port,
  lidOnFirstLookupOnly: values['lid-first-only'] ?? false,
  onError: err => console.error('[fake-whatsapp] error:', err),
})
const demo = { pn: '15550002222', lid: '200000000000002', name: 'Demo Contact' }
fake.addContact(demo)
const c = fake.controlUrl

console.log(`fake WhatsApp listening on ${fake.url}
account (the fake phone): +${fake.account.pn}, demo contact: +${demo.pn} (${demo.name})

Run the server against it (another terminal; the preload makes it trust the fake's test root):
  FAKE_WA_MEDIA_PORT=${fake.media.port} WA_WS_URL=${fake.url} node --import tsx --import ./test/fake-whatsapp/preload.ts src/server.ts
(FAKE_WA_MEDIA_PORT sends WhatsApp's media hosts to the fake's media server: uploads and downloads.)

Drive it (JSON over HTTP on ${c}):
  curl -s ${c}/state
  curl -s -XPOST ${c}/scan -H 'content-type: application/json' -d '{"qr":"<the QR string from GET /api/whatsapp/qr>"}'
  curl -s -XPOST ${c}/pairing-code -H 'content-type: application/json' -d '{"code":"<the code from POST /api/whatsapp/pairing-code>"}'
  curl -s -XPOST ${c}/contacts -H 'content-type: application/json' -d '{"pn":"15550003333","lid":"300000000000003","name":"Carol"}'
  curl -s -XPOST ${c}/contacts/${demo.pn}/send -H 'content-type: application/json' -d '{"text":"hello from the fake"}'
  curl -s -XPOST ${c}/contacts/${demo.pn}/image -H 'content-type: application/json' -d '{"caption":"a photo from the fake"}'
  curl -s -XPOST ${c}/contacts/${demo.pn}/receipt -H 'content-type: application/json' -d '{"id":"<messageId>","type":"read"}'
  curl -s -XPOST ${c}/contacts/${demo.pn}/retry -H 'content-type: application/json' -d '{"id":"<messageId>"}'
  curl -s ${c}/messages
  curl -s -XPOST ${c}/groups -H 'content-type: application/json' -d '{"subject":"Team","participants":["${demo.pn}"]}'
  curl -s -XPOST ${c}/groups/<group jid>/send -H 'content-type: application/json' -d '{"from":"${demo.pn}","text":"hello group"}'
  curl -s -XPOST ${c}/drop        # network drop (428)
  curl -s -XPOST ${c}/conflict    # replaced by another session (440)
  curl -s -XPOST ${c}/unpair      # logged out from the phone (401)

Ctrl-C to stop.`)

const stop = () => {
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
