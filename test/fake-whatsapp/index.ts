// The fake WhatsApp Web server for tests: the real protocol for the real Baileys client (server.ts).
export { startFakeWhatsApp, DEFAULT_ACCOUNT, type FakeWhatsApp, type FakeWhatsAppOptions } from './server.js'
export { FIXTURE_ROOT_SEED, FIXTURE_ROOT_PUBLIC_KEY, rootKeyFromSeed } from './certs.js'
export type { ScanOptions, PairResult } from './pairing.js'
export type { ReceivedMessage, Receipt } from './world.js'
export type { SentByContact } from './messages.js'
export type { GroupInfo } from './contacts-api.js'
export type { GroupOptions } from './groups.js'
