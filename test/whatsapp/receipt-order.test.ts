// The Baileys patch (scripts/patches) keeps the higher status when receipts for one message arrive out
// of order while Baileys buffers its events (after a connect, during the initial sync): merged as they
// came, a delivery receipt after the read receipt turned the message back to delivered and the read
// was never reported. An error still replaces a status below delivered.
import t from 'tap'
import { makeEventBuffer, proto, type BaileysEventMap, type WAMessage } from '@whiskeysockets/baileys'
import pino from 'pino'

const S = proto.WebMessageInfo.Status
const key = { remoteJid: '15550002222@s.whatsapp.net', fromMe: true, id: '3EB0ORDER' }

/** Buffers, emits each status in turn as a receipt would, flushes: the statuses the flushed events carry. */
function buffered(statuses: number[], withUpsert: boolean): Array<number | null | undefined> {
  const ev = makeEventBuffer(pino({ level: 'silent' }))
  const seen: Array<number | null | undefined> = []
  ev.process(async (events: Partial<BaileysEventMap>) => {
    for (const m of events['messages.upsert']?.messages ?? []) seen.push(m.status)
    for (const u of events['messages.update'] ?? []) seen.push(u.update.status)
  })
  ev.buffer()
  if (withUpsert) ev.emit('messages.upsert', { messages: [{ key, status: S.SERVER_ACK } as WAMessage], type: 'append' })
  for (const status of statuses) ev.emit('messages.update', [{ key, update: { status } }])
  ev.flush()
  return seen
}

t.test('a late delivery receipt does not lower a buffered read', async (t) => {
  t.same(buffered([S.READ, S.DELIVERY_ACK], true), [S.READ], 'merged into the buffered upsert')
  t.same(buffered([S.READ, S.DELIVERY_ACK], false), [S.READ], 'merged into a buffered update')
  t.same(buffered([S.DELIVERY_ACK, S.READ], false), [S.READ], 'in order, as before')
})

t.test('an error replaces a status below delivered, not a delivered or read one', async (t) => {
  t.same(buffered([S.ERROR], true), [S.ERROR])
  t.same(buffered([S.DELIVERY_ACK, S.ERROR], false), [S.DELIVERY_ACK])
})
