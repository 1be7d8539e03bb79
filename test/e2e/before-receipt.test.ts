// The receipt patch end to end: an observer's beforeReceipt runs after an incoming message is decrypted
// and before its receipt goes out (so a crash in between can never lose a receipted message), and a
// beforeReceipt that throws makes Baileys nack the message instead of receipting it.
import t from 'tap'
import { isReceiptHookPatched } from '../../src/whatsapp/baileys-patch.js'
import { BOB, pairByQr, poll, prepareProcess, startApp, startFake, tempDir } from './harness.js'

prepareProcess()

t.test('the installed Baileys carries the receipt patch', async (t) => {
  t.ok(isReceiptHookPatched(), 'scripts/patches was applied at install')
})

t.test('beforeReceipt holds the receipt until it resolves; a throw nacks the message', async (t) => {
  const fake = await startFake(t)
  fake.addContact(BOB)
  const { app } = await startApp(t, { fake, sessionPath: await tempDir(t) })
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const seen: Array<{ clientId: string; id: string | null | undefined; text: string | null | undefined }> = []
  let failNext = false
  app.sessions.observe({
    async beforeReceipt(clientId, message) {
      seen.push({ clientId, id: message.key.id, text: message.message?.conversation ?? message.message?.extendedTextMessage?.text })
      if (failNext) throw new Error('the store is down')
      await gate
    },
  })
  await pairByQr(app, fake)

  const sent = await fake.contactSend(BOB.pn, 'held until stored')
  await poll('beforeReceipt called', () => seen.find((s) => s.id === sent.id))
  t.same(seen[0], { clientId: 'e2e', id: sent.id, text: 'held until stored' }, 'the observer got the decrypted message')
  // Baileys is parked inside beforeReceipt: nothing may reach the fake meanwhile. (A slow machine can
  // only make this wait pass more easily, never fail it.)
  await t.rejects(fake.waitFor(() => fake.receipts().find((r) => r.id === sent.id), 500), 'no receipt while the message is not stored')
  release()
  const receipt = await fake.waitFor(() => fake.receipts().find((r) => r.id === sent.id), 15_000)
  t.not(receipt.type, 'retry', 'receipted once stored')

  failNext = true
  const refused = await fake.contactSend(BOB.pn, 'cannot be stored')
  const nack = await fake.waitFor(() => fake.acks().find((a) => a.id === refused.id), 15_000)
  t.ok(nack.error, `nacked with an error code (${nack.error})`)
  t.notOk(fake.receipts().some((r) => r.id === refused.id), 'never receipted')
})
