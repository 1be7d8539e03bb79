import t from 'tap'
import { randomBytes } from 'node:crypto'
import { BufferJSON, proto } from '@whiskeysockets/baileys'
import { bufferJson, createCodec, parseEncryptionKey } from '../../src/keystore/codec.js'
import { KEY_TYPES, canon, sampleCreds, sampleKeys } from './fixtures/values.js'

const key = randomBytes(32).toString('base64')

for (const [name, codec] of [['plain', createCodec()], ['encrypted', createCodec({ encryptionKey: key })]] as const) {
  t.test(`${name}: every key type and creds round trip byte-equal`, async (t) => {
    const keys = sampleKeys()
    for (const type of KEY_TYPES) {
      for (const [id, value] of Object.entries(keys[type] ?? {})) {
        const text = codec.encode(type, value)
        t.type(text, 'string')
        const back = codec.decode(type, text)
        t.equal(canon(back), canon(value), `${type}/${id}`)
        if (type === 'app-state-sync-key') t.ok(back instanceof proto.Message.AppStateSyncKeyData, 'protobuf revived')
      }
    }
    const creds = sampleCreds()
    t.equal(canon(codec.decodeCreds(codec.encodeCreds(creds))), canon(creds))
    t.ok(Buffer.isBuffer(codec.decodeCreds(codec.encodeCreds(creds)).noiseKey.private))
    t.equal(codec.encrypted, name === 'encrypted')
  })
}

t.test('encrypted text holds no plaintext', async (t) => {
  const codec = createCodec({ encryptionKey: key })
  const text = codec.encode('lid-mapping', 'MARKER-15550001111')
  t.notOk(text.includes('MARKER'))
  t.match(text, /^enc:v1:/)
})

t.test('mismatches are typed errors, never garbage', async (t) => {
  const plain = createCodec()
  const enc = createCodec({ encryptionKey: key })
  const other = createCodec({ encryptionKey: randomBytes(32).toString('hex') })
  t.throws(() => plain.decode('session', enc.encode('session', Buffer.from('x'))), { code: 'ENCRYPTION_KEY_REQUIRED' })
  t.throws(() => enc.decode('session', plain.encode('session', Buffer.from('x'))), { code: 'SESSION_NOT_ENCRYPTED' })
  t.throws(() => other.decode('session', enc.encode('session', Buffer.from('x'))), { code: 'WRONG_ENCRYPTION_KEY' })
  t.throws(() => plain.decode('session', '{not json'), { code: 'CORRUPT_VALUE' })

  t.doesNotThrow(() => plain.verifyKeyCheck(null))
  t.doesNotThrow(() => enc.verifyKeyCheck(enc.keyCheck))
  t.throws(() => other.verifyKeyCheck(enc.keyCheck, 'c1'), { code: 'WRONG_ENCRYPTION_KEY', message: /does not match.*nothing was changed/ })
  t.throws(() => plain.verifyKeyCheck(enc.keyCheck), { code: 'ENCRYPTION_KEY_REQUIRED' })
  t.throws(() => enc.verifyKeyCheck(null), { code: 'SESSION_NOT_ENCRYPTED' })
  t.equal(plain.keyCheck, null)
})

t.test('createCodec validates the key format', async (t) => {
  t.throws(() => createCodec({ encryptionKey: 'short' }), { code: 'INVALID_ENCRYPTION_KEY' })
  t.same(parseEncryptionKey('00'.repeat(32)), Buffer.alloc(32))
})

t.test('bufferJson: the same text as JSON.stringify with BufferJSON.replacer, for every shape', async (t) => {
  const ref = (v: unknown) => JSON.stringify(v, BufferJSON.replacer)
  const base = randomBytes(64)
  const own = randomBytes(8)
  Object.defineProperty(own, 'toJSON', { value: () => 'own', enumerable: false })
  const values: unknown[] = [
    ...Object.values(sampleKeys()).flatMap((ids) => Object.values(ids ?? {})),
    sampleCreds(),
    randomBytes(1500),
    Buffer.alloc(0),
    new Uint8Array(0),
    new Uint8Array(randomBytes(33)),
    base.subarray(7, 40), // a Buffer over part of a larger allocation
    new Uint8Array(base.buffer, base.byteOffset + 3, 20), // a Uint8Array view with an offset
    new Int8Array([1, -2, 3]), // not a Uint8Array: serialised as an object, as before
    own,
    { type: 'Buffer', data: [1, 2, 3] },
    'text',
    42,
    null,
    true,
    [randomBytes(4), { k: new Uint8Array([1, 2]) }],
  ]
  for (const [i, v] of values.entries()) t.equal(bufferJson(v), ref(v), `value ${i}`)
  t.equal(bufferJson(undefined), undefined)
})

t.test('encode/decode of Buffers and Uint8Arrays: byte-equal with either codec', async (t) => {
  for (const codec of [createCodec(), createCodec({ encryptionKey: key })]) {
    for (const v of [randomBytes(1500), new Uint8Array(randomBytes(600)), Buffer.alloc(0)]) {
      const back = codec.decode('session', codec.encode('session', v)) as Buffer
      t.ok(Buffer.isBuffer(back))
      t.ok(back.equals(Buffer.from(v)))
    }
  }
})
