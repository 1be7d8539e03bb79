import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { proto, type SignalDataSet } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { fileBackend as createFileBackend } from './fixtures/backends.js'
import { canon, sampleCreds, sampleKeys } from './fixtures/values.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')
const MARKER = 'PLAINTEXT-MARKER-4242'

async function snapshotFolder(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const name of (await readdir(dir)).sort()) out.set(name, await readFile(`${dir}/${name}`))
  return out
}

async function seedEncrypted(sessions: string) {
  const backend = createFileBackend({ sessionPath: sessions, codec: createCodec({ encryptionKey: KEY }), compactOnClose: false })
  const creds = sampleCreds()
  const keys = sampleKeys()
  // Values are encrypted. The file backend stores ids as it is given them: the store hands it keyed
  // hashes (key-ids.test.ts); this test gives clear ones, which the markers below do not appear in.
  keys['lid-mapping'] = { '15550009999': MARKER }
  await backend.apply('enc', { creds, keys, status: 'active', jid: 'me@s.whatsapp.net', version: { epoch: 0, seq: 1 } })
  const later = { session: { s: Buffer.from(MARKER) }, 'x-new': { a: { note: MARKER } } } as SignalDataSet
  await backend.apply('enc', { keys: later, version: { epoch: 0, seq: 2 } })
  await backend.close()
  return { creds, keys }
}

t.test('encrypted round trip: nothing readable on disk, everything back byte-equal', async (t) => {
  const { sessions } = await tempFolder(t)
  const { creds, keys } = await seedEncrypted(sessions)
  for (const [name, bytes] of await snapshotFolder(sessions)) {
    t.notOk(bytes.includes(MARKER), `${name} holds no plaintext marker`)
    t.notOk(bytes.includes(Buffer.from(creds.noiseKey.private).toString('base64')), `${name} holds no plaintext creds`)
  }
  const doc = JSON.parse(await readFile(`${sessions}/enc.json`, 'utf8'))
  t.equal(doc.encryption.algorithm, 'aes-256-gcm')
  t.match(doc.creds, /^enc:v1:/)
  const backend = createFileBackend({ sessionPath: sessions, codec: createCodec({ encryptionKey: Buffer.from(KEY, 'base64').toString('hex') }) })
  const snap = await backend.load('enc')
  t.equal(canon(snap?.creds), canon(creds), 'same key given as hex decodes')
  t.equal(snap?.keys.get('lid-mapping')?.get('15550009999'), MARKER)
  t.equal(snap?.keys.get('session')?.get('s')?.toString(), MARKER, 'journal entries decrypted')
  t.equal(canon(snap?.keys.get('pre-key')?.get('1')), canon(keys['pre-key']?.['1']))
  t.ok(snap?.keys.get('app-state-sync-key')?.get('AAAAAGo7') instanceof proto.Message.AppStateSyncKeyData)
  t.same(snap?.status, 'active', 'header stays readable for listing')
  t.same((await backend.list()).map((s) => s.clientId), ['enc'])
  await backend.close()
})

t.test('a wrong key fails load with WRONG_ENCRYPTION_KEY and changes no byte', async (t) => {
  const { sessions } = await tempFolder(t)
  await seedEncrypted(sessions)
  const before = await snapshotFolder(sessions)
  const wrong = createFileBackend({ sessionPath: sessions, codec: createCodec({ encryptionKey: randomBytes(32).toString('hex') }) })
  await t.rejects(wrong.load('enc'), { code: 'WRONG_ENCRYPTION_KEY', message: /does not match the key.*"enc".*nothing was changed/ })
  await t.rejects(wrong.apply('enc', { keys: { session: { z: Buffer.from('z') } }, version: { epoch: 0, seq: 3 } }), {
    code: 'WRONG_ENCRYPTION_KEY',
  }, 'writes are refused too')
  await wrong.close()
  t.same(wrong.quarantined(), [], 'not treated as corruption')
  t.same(await snapshotFolder(sessions), before, 'every file byte-identical, nothing added or removed')
  const right = await createFileBackend({ sessionPath: sessions, codec: createCodec({ encryptionKey: KEY }) }).load('enc')
  t.same(right?.version, { epoch: 0, seq: 2 }, 'the right key still loads it all')
})

t.test('encrypted data without a key, and plaintext data with a key, are typed errors that change nothing', async (t) => {
  const { root } = await tempFolder(t)
  const encDir = `${root}/enc`
  await seedEncrypted(encDir)
  const beforeEnc = await snapshotFolder(encDir)
  const noKey = createFileBackend({ sessionPath: encDir, codec: createCodec() })
  await t.rejects(noKey.load('enc'), { code: 'ENCRYPTION_KEY_REQUIRED' })
  await noKey.close()
  t.same(await snapshotFolder(encDir), beforeEnc)

  const plainDir = `${root}/plain`
  const plain = createFileBackend({ sessionPath: plainDir, codec: createCodec(), compactOnClose: false })
  await plain.apply('p', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  await plain.apply('p', { keys: { session: { s: Buffer.from('x') } }, version: { epoch: 0, seq: 2 } })
  await plain.close()
  const beforePlain = await snapshotFolder(plainDir)
  const withKey = createFileBackend({ sessionPath: plainDir, codec: createCodec({ encryptionKey: KEY }) })
  await t.rejects(withKey.load('p'), { code: 'SESSION_NOT_ENCRYPTED' })
  await withKey.close()
  t.same(await snapshotFolder(plainDir), beforePlain)
})
