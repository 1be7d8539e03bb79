import t from 'tap'
import { readFile, stat, readdir } from 'node:fs/promises'
import { proto } from '@whiskeysockets/baileys'
import { createCodec } from '../../src/keystore/codec.js'
import { fileBackend as createFileBackend } from './fixtures/backends.js'
import { KEY_TYPES, canon, sampleCreds, sampleKeys } from './fixtures/values.js'
import { tempFolder } from './fixtures/tmp.js'

const codec = createCodec()

t.test('round trip of every key type, a future type, and creds', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec })
  const creds = sampleCreds()
  const keys = sampleKeys()
  await backend.apply('alice', { creds, keys, status: 'active', jid: '15550001111@s.whatsapp.net', version: { epoch: 0, seq: 1 } })
  // A second batch goes to the journal (the first created the snapshot).
  await backend.apply('alice', { keys: { session: { extra: Buffer.from('journal') } }, version: { epoch: 0, seq: 2 } })

  for (const b of [backend, createFileBackend({ sessionPath: sessions, codec })]) {
    const snap = await b.load('alice')
    if (!snap) throw new Error('no snapshot')
    t.equal(canon(snap.creds), canon(creds), 'creds byte-equal')
    t.same(snap.version, { epoch: 0, seq: 2 })
    t.equal(snap.status, 'active')
    t.equal(snap.jid, '15550001111@s.whatsapp.net')
    for (const type of KEY_TYPES) {
      const ids = snap.keys.get(type)
      t.ok(ids, `type ${type} present`)
      for (const [id, value] of Object.entries(keys[type] ?? {})) {
        t.equal(canon(ids?.get(id)), canon(value), `${type}/${id} byte-equal`)
      }
    }
    t.ok(Buffer.isBuffer(snap.keys.get('session')?.get('200000000000002_1.0')), 'Uint8Array comes back as a Buffer')
    t.equal(snap.keys.get('session')?.get('extra')?.toString(), 'journal')
    const ask = snap.keys.get('app-state-sync-key')?.get('AAAAAGo7')
    t.ok(ask instanceof proto.Message.AppStateSyncKeyData, 'app-state-sync-key revived as protobuf')
    const orig = keys['app-state-sync-key']?.AAAAAGo7 as proto.Message.AppStateSyncKeyData
    if (ask instanceof proto.Message.AppStateSyncKeyData) {
      t.same(Buffer.from(ask.keyData ?? []), Buffer.from(orig.keyData ?? []))
      t.equal(ask.fingerprint?.rawId, 12345)
      t.same(ask.fingerprint?.deviceIndexes, [0, 1, 7])
    }
    const ver = snap.keys.get('app-state-sync-version')?.get('regular_high') as { version: number; hash: Buffer }
    t.equal(ver.version, 17)
    t.ok(Buffer.isBuffer(ver.hash))
  }
  await backend.close()
})

t.test('null deletes; missing ids absent; status and jid updates; version is the latest', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec })
  await backend.apply('bob', { creds: sampleCreds(), keys: sampleKeys(), version: { epoch: 0, seq: 1 } })
  await backend.apply('bob', { keys: { 'pre-key': { '1': null }, 'lid-mapping': { '15550001111': null } }, version: { epoch: 0, seq: 2 } })
  await backend.apply('bob', { status: 'logged_out', jid: null, version: { epoch: 3, seq: 3 } })
  const snap = await createFileBackend({ sessionPath: sessions, codec }).load('bob')
  t.equal(snap?.keys.get('pre-key')?.has('1'), false, 'deleted pre-key gone')
  t.equal(snap?.keys.get('pre-key')?.has('812'), true, 'other pre-key kept')
  t.equal(snap?.keys.get('lid-mapping')?.has('15550001111'), false)
  t.equal(snap?.keys.get('lid-mapping')?.get('100000000000001_reverse'), '15550001111')
  t.equal(snap?.keys.get('session')?.has('nope'), false)
  t.equal(snap?.status, 'logged_out')
  t.equal(snap?.jid, null)
  t.same(snap?.version, { epoch: 3, seq: 3 })
  t.equal(await backend.load('nobody'), null, 'unknown session loads as null')
  await backend.close()
})

t.test('concurrent applies coalesce into group commits and never corrupt', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec })
  await backend.apply('carol', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  const before = backend.stats()
  const N = 200
  const types = ['session', 'pre-key', 'sender-key', 'tctoken']
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      backend.apply('carol', { keys: { [types[i % 4]]: { [`id${i}`]: Buffer.from(`value-${i}`) } }, version: { epoch: 0, seq: i + 2 } }),
    ),
  )
  const after = backend.stats()
  t.equal(after.batches - before.batches, N, 'every batch made durable')
  t.ok(after.appends - before.appends <= 2, `${N} concurrent applies took ${after.appends - before.appends} appends`)
  t.equal(after.maxInFlight, 1, 'never two writes in flight')

  // Applies arriving while one is in flight wait for the next single append.
  const s0 = backend.stats()
  const first = backend.apply('carol', { keys: { session: { a: Buffer.from('a') } }, version: { epoch: 0, seq: 1000 } })
  await new Promise((r) => setImmediate(r))
  const rest = Array.from({ length: 20 }, (_, i) =>
    backend.apply('carol', { keys: { session: { [`b${i}`]: Buffer.from('b') } }, version: { epoch: 0, seq: 1001 + i } }),
  )
  await Promise.all([first, ...rest])
  t.ok(backend.stats().appends - s0.appends <= 2, 'a wave behind an in-flight append is one more append')

  const snap = await createFileBackend({ sessionPath: sessions, codec }).load('carol')
  for (let i = 0; i < N; i++) t.equal(snap?.keys.get(types[i % 4])?.get(`id${i}`)?.toString(), `value-${i}`)
  t.same(snap?.version, { epoch: 0, seq: 1020 })
  await backend.close()
})

t.test('permissions 0600/0700, layout, list, replace, remove', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec })
  await backend.apply('dave', { creds: sampleCreds(), status: 'active', jid: 'x@s.whatsapp.net', version: { epoch: 0, seq: 1 } })
  await backend.apply('dave', { keys: { session: { s: Buffer.from('1') } }, version: { epoch: 0, seq: 2 } })
  t.equal((await stat(sessions)).mode & 0o777, 0o700, 'folder 0700')
  const files = (await readdir(sessions)).sort()
  t.same(files, ['dave.journal', 'dave.json'])
  for (const f of files) t.equal((await stat(`${sessions}/${f}`)).mode & 0o777, 0o600, `${f} 0600`)
  const doc = JSON.parse(await readFile(`${sessions}/dave.json`, 'utf8'))
  t.equal(doc.clientId, 'dave', 'snapshot is readable JSON with a header')
  t.equal(doc.encryption, null)

  const listed = await backend.list()
  t.equal(listed.length, 1)
  t.match(listed[0], { clientId: 'dave', status: 'active', jid: 'x@s.whatsapp.net', location: 'file' })
  t.notOk('creds' in listed[0], 'no key material in the listing')
  const listedCold = await createFileBackend({ sessionPath: sessions, codec }).list()
  t.same(listedCold, listed, 'a fresh backend lists the same (journal replayed)')

  const snap = await backend.load('dave')
  if (!snap) throw new Error('no snapshot')
  snap.keys = new Map([['identity-key', new Map<string, unknown>([['i', Buffer.from('id')]])]])
  snap.version = { epoch: 1, seq: 9 }
  await backend.replace('dave', snap)
  const replaced = await createFileBackend({ sessionPath: sessions, codec }).load('dave')
  t.same([...(replaced?.keys.keys() ?? [])], ['identity-key'], 'replace drops what the snapshot does not hold')
  t.same(replaced?.version, { epoch: 1, seq: 9 })
  t.equal(replaced?.createdAt, snap.createdAt)

  t.equal(await backend.remove('dave'), true)
  t.equal(await backend.remove('dave'), false)
  t.same(await readdir(sessions), [])
  t.equal(await backend.load('dave'), null)
  await backend.close()
})

t.test('invalid client ids are rejected with INVALID_CLIENT_ID', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec })
  for (const bad of ['../etc', 'a/b', '', '.', '..', '.hidden', 'x'.repeat(129), 'a\u0000b', 'é']) {
    await t.rejects(backend.load(bad), { code: 'INVALID_CLIENT_ID' }, JSON.stringify(bad))
    await t.rejects(backend.apply(bad, { version: { epoch: 0, seq: 1 } }), { code: 'INVALID_CLIENT_ID' })
  }
  await backend.close()
})

t.test('compaction folds the journal into the snapshot by size and on close', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec, compaction: { minBytes: 4096, maxEntries: 1000 } })
  await backend.apply('erin', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  const s0 = backend.stats().snapshots
  for (let i = 0; i < 60; i++) {
    await backend.apply('erin', { keys: { 'app-state-sync-version': { [`v${i % 3}`]: { version: i, hash: Buffer.alloc(512, i), indexValueMap: {} } } }, version: { epoch: 0, seq: i + 2 } })
  }
  t.ok(backend.stats().snapshots - s0 >= 2, 'compacted while writing')
  await backend.apply('erin', { keys: { session: { last: Buffer.from('z') } }, version: { epoch: 0, seq: 100 } })
  await backend.close()
  const journal = await readFile(`${sessions}/erin.journal`, 'utf8')
  t.equal(journal.split('\n').filter(Boolean).length, 1, 'close leaves only the journal header')
  const snap = await createFileBackend({ sessionPath: sessions, codec }).load('erin')
  t.equal((snap?.keys.get('app-state-sync-version')?.get('v2') as { hash: Buffer }).hash[0], 59)
  t.equal(snap?.keys.get('session')?.get('last')?.toString(), 'z')
  t.same(snap?.version, { epoch: 0, seq: 100 })
})

t.test('a failing write rejects exactly the callers it carried; the writer recovers', async (t) => {
  const { rm, writeFile, unlink } = await import('node:fs/promises')
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec, compaction: { maxEntries: 1 } })
  await backend.apply('fail', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  await backend.apply('fail', { keys: { session: { a: Buffer.from('a') } }, version: { epoch: 0, seq: 2 } })
  await backend.load('fail') // waits for the compaction that follows an acknowledged append
  await rm(sessions, { recursive: true })
  await writeFile(sessions, 'a file where the folder was') // nothing can be created in it now
  // Appends to the open journal still succeed; the compaction after it fails and the writer re-reads.
  await backend.apply('fail', { keys: { session: { b: Buffer.from('b') } }, version: { epoch: 0, seq: 3 } })
  const before = backend.stats().batches
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, (_, i) => backend.apply('fail', { keys: { session: { [`c${i}`]: Buffer.from('c') } }, version: { epoch: 0, seq: 4 + i } })),
  )
  t.same(results.map((r) => r.status), Array(5).fill('rejected'), 'every caller of the failed group rejected')
  t.match((results[0] as PromiseRejectedResult).reason, { code: /ENOTDIR|EEXIST/ })
  t.equal(backend.stats().batches, before, 'nothing counted as durable')
  await unlink(sessions)
  await backend.apply('fail', { creds: sampleCreds(), keys: { session: { d: Buffer.from('d') } }, version: { epoch: 0, seq: 10 } })
  const snap = await createFileBackend({ sessionPath: sessions, codec }).load('fail')
  t.equal(snap?.keys.get('session')?.get('d')?.toString(), 'd', 'the next write lands once the folder can be made again')
  t.equal((await stat(sessions)).mode & 0o777, 0o700)
  await backend.close()
})

t.test('durable: false still survives a new backend instance (bytes reach the kernel before resolve)', async (t) => {
  const { sessions } = await tempFolder(t)
  const backend = createFileBackend({ sessionPath: sessions, codec, durable: false, compactOnClose: false })
  await backend.apply('nd', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  const f0 = backend.stats().fsyncs
  await backend.apply('nd', { keys: { session: { a: Buffer.from('a') } }, version: { epoch: 0, seq: 2 } })
  t.equal(backend.stats().fsyncs, f0, 'no fsync for the append')
  t.equal((await createFileBackend({ sessionPath: sessions, codec }).load('nd'))?.keys.get('session')?.get('a')?.toString(), 'a')
  await backend.close()
})
