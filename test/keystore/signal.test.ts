// Two parties whose Signal keys live in our store (Postgres mode) talk through Baileys' own signal
// repository (libsignal underneath); both stores are closed and reopened as new instances, and the
// conversation continues with every message decrypting.
import t from 'tap'
import pino from 'pino'
import {
  Curve,
  addTransactionCapability,
  generateSignalPubKey,
  type AuthenticationCreds,
  type SignalKeyStore,
} from '@whiskeysockets/baileys'
// Not re-exported from the package root in rc14; the package has no exports map, so the path is public.
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js'
import { createSessionStore, type AuthStateHandle, type SessionStore } from '../../src/keystore/index.js'
import { migratedDatabase } from '../helpers/db.js'
import { tempFolder } from './fixtures/tmp.js'

const logger = pino({ level: 'silent' })
const ALICE = '100000000000001@lid'
const BOB = '200000000000002@lid'

function repository(handle: AuthStateHandle) {
  const keys = addTransactionCapability(handle.state.keys as SignalKeyStore, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  return makeLibSignalRepository({ creds: handle.state.creds, keys }, logger)
}

function bundle(creds: AuthenticationCreds, preKeyId: number, preKeyPublic: Uint8Array) {
  return {
    registrationId: creds.registrationId,
    identityKey: generateSignalPubKey(creds.signedIdentityKey.public),
    signedPreKey: {
      keyId: creds.signedPreKey.keyId,
      publicKey: generateSignalPubKey(creds.signedPreKey.keyPair.public),
      signature: creds.signedPreKey.signature,
    },
    preKey: { keyId: preKeyId, publicKey: generateSignalPubKey(preKeyPublic) },
  }
}

t.test('a conversation survives closing and reopening both stores', async (t) => {
  const { url } = await migratedDatabase(t)
  const folders = [await tempFolder(t), await tempFolder(t), await tempFolder(t)]
  const open = async (path: string): Promise<SessionStore> => createSessionStore({ sessionPath: path, databaseUrl: url })

  let storeA = await open(folders[0].sessions)
  let storeB = await open(folders[1].sessions)
  let a = await storeA.open('alice')
  let b = await storeB.open('bob')
  await a.saveCreds()
  const preKey = Curve.generateKeyPair()
  await b.state.keys.set({ 'pre-key': { '31': preKey } })
  await b.saveCreds()

  let repoA = repository(a)
  let repoB = repository(b)
  await repoA.injectE2ESession({ jid: BOB, session: bundle(b.state.creds, 31, preKey.public) })

  const texts: string[] = []
  async function send(from: 'a' | 'b', text: string, expectType?: 'pkmsg' | 'msg') {
    const [sender, receiver, to, fromJid] = from === 'a' ? [repoA, repoB, BOB, ALICE] : [repoB, repoA, ALICE, BOB]
    const { type, ciphertext } = await sender.encryptMessage({ jid: to, data: Buffer.from(text) })
    if (expectType) t.equal(type, expectType, `${text}: ${expectType}`)
    const plain = await receiver.decryptMessage({ jid: fromJid, type, ciphertext })
    t.equal(Buffer.from(plain).toString(), text, `${text} decrypts`)
    texts.push(text)
  }

  await send('a', 'hello bob', 'pkmsg')
  t.same(await b.state.keys.get('pre-key', ['31']), {}, 'the one-time pre-key was consumed (deleted)')
  await send('b', 'hi alice', 'msg')
  await send('a', 'how are you', 'msg')
  await send('b', 'fine')

  await storeA.close()
  await storeB.close()
  // New instances; Bob's comes from an empty folder, so his session comes from the database alone.
  storeA = await open(folders[0].sessions)
  storeB = await open(folders[2].sessions)
  t.teardown(() => Promise.all([storeA.close(), storeB.close()]))
  a = await storeA.open('alice')
  b = await storeB.open('bob')
  repoA = repository(a)
  repoB = repository(b)

  for (let i = 0; i < 5; i++) {
    await send('a', `after restart a${i}`, 'msg')
    await send('b', `after restart b${i}`, 'msg')
  }
  await send('a', 'two in a row 1')
  await send('a', 'two in a row 2')
  await send('b', 'done')
  t.equal(texts.length, 17, 'every message decrypted')
  t.ok((await a.keyCounts()).session >= 1 && (await b.keyCounts()).session >= 1, 'sessions stored on both sides')
})
