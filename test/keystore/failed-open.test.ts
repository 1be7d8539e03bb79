// A session whose stored data cannot be used (a damaged value) is refused by open() and verify() with
// CORRUPT_VALUE naming the value's type, and closing the store afterwards leaves every file as it was:
// nothing is compacted, truncated or rewritten after a failed open.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createCodec } from '../../src/keystore/codec.js'
import { createSessionStore, StoreDataError } from '../../src/keystore/index.js'
import { fileBackend } from './fixtures/backends.js'
import { sampleCreds } from './fixtures/values.js'
import { tempFolder } from './fixtures/tmp.js'

const KEY = randomBytes(32).toString('base64')

async function folderBytes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of (await readdir(dir)).sort()) out.set(name, (await readFile(`${dir}/${name}`)).toString('base64'))
  return out
}

/** A session with entries in its journal, one of whose encrypted values has a flipped byte. */
async function damagedSession(sessions: string): Promise<void> {
  const backend = fileBackend({ sessionPath: sessions, codec: createCodec({ encryptionKey: KEY }), compactOnClose: false })
  await backend.apply('x', { creds: sampleCreds(), version: { epoch: 0, seq: 1 } })
  for (let seq = 2; seq <= 8; seq++) await backend.apply('x', { keys: { 'pre-key': { [String(seq)]: { private: randomBytes(32), public: randomBytes(32) } } }, version: { epoch: 0, seq } })
  await backend.close()
  const path = `${sessions}/x.journal`
  const lines = (await readFile(path, 'utf8')).split('\n')
  lines[3] = lines[3].replace(/(enc:v1:[^:]+:[^:]+:)(.{10})(.)/, (_m, head: string, mid: string, c: string) => `${head}${mid}${c === 'A' ? 'B' : 'A'}`)
  await writeFile(path, lines.join('\n'))
}

for (const call of ['verify', 'open'] as const) {
  t.test(`file mode: ${call}() refuses a damaged value with CORRUPT_VALUE and close() changes no byte`, async (t) => {
    const { sessions } = await tempFolder(t)
    await damagedSession(sessions)
    const before = await folderBytes(sessions)
    const store = await createSessionStore({ sessionPath: sessions, encryptionKey: KEY })
    const err = await (call === 'verify' ? store.verify('x') : store.open('x')).then(() => null, (e: unknown) => e)
    t.ok(err instanceof StoreDataError, 'a StoreDataError (fatal for the session)')
    t.match(err, { code: 'CORRUPT_VALUE', message: /"pre-key" value failed its integrity check/ })
    t.notMatch((err as Error).message, /does not match/, 'the key is not blamed: its check passed')
    await store.close()
    t.same(await folderBytes(sessions), before, 'snapshot and journal byte-identical after close')
  })
}
