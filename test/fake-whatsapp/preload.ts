// Test-only preload for child processes that should trust the fake's fixture root:
//   WA_WS_URL=ws://127.0.0.1:PORT/ws/chat node --import tsx --import ./test/fake-whatsapp/preload.ts src/server.ts
// Baileys' noise handler reads WA_CERT_DETAILS.PUBLIC_KEY at handshake time; the exported object is
// mutable (the binding is not), and Baileys is ESM-only, so this is the instance the app uses.
// Nothing in src/ does this: production keeps WhatsApp's real root.
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import { FIXTURE_ROOT_PUBLIC_KEY } from './certs.js'

WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)

// FAKE_WA_MEDIA_PORT: also send WhatsApp's media hosts to the fake's media server (uploads, downloads).
const mediaPort = Number(process.env.FAKE_WA_MEDIA_PORT)
if (Number.isInteger(mediaPort) && mediaPort > 0) {
  const { routeWhatsAppMediaTo } = await import('./media-redirect.js')
  routeWhatsAppMediaTo(mediaPort)
}
