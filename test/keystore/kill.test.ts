// A child writing as fast as it can is killed with SIGKILL at a random moment; every write it had
// acknowledged must be there, byte-equal, when the folder is reopened. Five kills on the same folder,
// so recovery from a torn tail is itself followed by more writes and more kills.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createCodec } from '../../src/keystore/codec.js'
import { fileBackend as createFileBackend } from './fixtures/backends.js'
import { spawnFixture } from './fixtures/spawn.js'
import { deletedBy, valueFor } from './fixtures/workload.js'
import { tempFolder } from './fixtures/tmp.js'

for (const [encryptionKey, KILLS] of [[undefined, 5], [randomBytes(32).toString('base64'), 3]] as const) {
  t.test(`SIGKILL mid-stream loses no acknowledged write (${encryptionKey ? 'encrypted' : 'plain'})`, async (t) => {
    const { sessions } = await tempFolder(t)
    const codec = createCodec({ encryptionKey })
    const acked = new Set<number>()
    let snapshotsSeen = 0
    for (let round = 1; round <= KILLS; round++) {
      const child = spawnFixture('./kill-child.ts', [sessions, 'victim', String(1 + (round % 4) * 2), ...(encryptionKey ? [encryptionKey] : [])])
      await child.waitForAcks(40 + Math.floor(Math.random() * 200))
      await new Promise((r) => setTimeout(r, Math.random() * 25))
      child.proc.kill('SIGKILL')
      const exit = await child.exited
      t.equal(exit.signal, 'SIGKILL', `round ${round}: killed, not exited (${child.acks.length} acks)`)
      for (const s of child.acks) acked.add(s)

      const backend = createFileBackend({ sessionPath: sessions, codec, compactOnClose: false })
      const snap = await backend.load('victim')
      await backend.close()
      snapshotsSeen += backend.stats().snapshots
      if (!snap) throw new Error('session lost')
      const maxAck = Math.max(...acked)
      t.ok(snap.version.seq >= maxAck, `round ${round}: version ${snap.version.seq} >= last ack ${maxAck}`)
      t.ok(Number(snap.keys.get('session')?.get('hot')?.toString()) >= maxAck, 'latest overwrite is at least the last ack')
      const preKeys = snap.keys.get('pre-key') ?? new Map()
      let missing = 0
      let wrong = 0
      for (const s of acked) {
        const killer = deletedBy(s)
        const value = preKeys.get(`k${s}`) as { seq: number; value: Buffer } | undefined
        if (killer !== null && acked.has(killer)) {
          if (value !== undefined) wrong++ // an acknowledged delete must stick too
          continue
        }
        if (killer !== null && value === undefined) continue // its delete may have landed unacknowledged
        if (value === undefined) missing++
        else if (value.seq !== s || !valueFor(s).equals(value.value)) wrong++
      }
      t.equal(missing, 0, `round ${round}: no acknowledged key missing (${acked.size} acked so far)`)
      t.equal(wrong, 0, `round ${round}: every acknowledged value byte-equal`)
    }
    t.ok(acked.size >= KILLS * 40, `${acked.size} acknowledged writes checked`)
    t.equal(snapshotsSeen, 0, 'reopening needed no rewrite (recovery is replay + truncate)')
  })
}
