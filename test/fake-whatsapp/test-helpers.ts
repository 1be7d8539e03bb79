// Shared by the fake's own tests: a temp auth dir (test/helpers), QR pairing plus the 515 restart, and reopening a
// client from saved auth state, all against the real Baileys client (client.ts).
import { connectClient, type TestClient } from './client.js'
import type { FakeWhatsApp } from './index.js'

export { tempDir } from '../helpers/temp-dir.js'
/** The bit of a tap Test the helpers use. */
import type { Teardown as TapLike } from '../helpers/teardown.js'
export type { TapLike }

/** QR pairing then the restart the app does on 515. Returns the open client. */
export const pairAndOpen = async (t: TapLike, fake: FakeWhatsApp, dir: string): Promise<TestClient> => {
  const first = await connectClient(fake.url, dir)
  t.teardown(() => first.end())
  await fake.scanQR(await first.qr())
  const code = await first.closed()
  if (code !== 515) throw new Error(`expected 515 (restart required) after pairing, got ${code}`)
  return openClient(t, fake, dir)
}

export const openClient = async (t: TapLike, fake: FakeWhatsApp, dir: string): Promise<TestClient> => {
  const client = await connectClient(fake.url, dir)
  t.teardown(() => client.end())
  await client.open()
  return client
}

/** Texts of the messages the client received (not its own). */
export const textsOf = (c: TestClient): string[] =>
  c.messages.filter(m => !m.key.fromMe).map(m => m.message?.conversation ?? m.message?.extendedTextMessage?.text ?? '')
