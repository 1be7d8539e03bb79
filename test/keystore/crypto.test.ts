import t from 'tap'
import { randomBytes } from 'node:crypto'
import {
  createCipher,
  InvalidEncryptionKeyError,
  parseEncryptionKey,
  WrongEncryptionKeyError,
} from '../../src/keystore/crypto.js'

t.test('parseEncryptionKey accepts 32 bytes as base64, base64url or hex', async (t) => {
  const key = randomBytes(32)
  t.same(parseEncryptionKey(key.toString('base64')), key, 'base64')
  t.same(parseEncryptionKey(key.toString('base64url')), key, 'base64url')
  t.same(parseEncryptionKey(key.toString('hex')), key, 'hex lower')
  t.same(parseEncryptionKey(key.toString('hex').toUpperCase()), key, 'hex upper')
  t.same(parseEncryptionKey(`  ${key.toString('base64')}\n`), key, 'surrounding whitespace ignored')
})

t.test('parseEncryptionKey rejects other lengths and formats without echoing the key', async (t) => {
  const secretish = randomBytes(16).toString('hex') // 32 hex chars = 16 bytes
  const bad = [secretish, randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), randomBytes(32).toString('hex') + 'ab', 'not a key', '', 'z'.repeat(64)]
  for (const s of bad) {
    try {
      parseEncryptionKey(s)
      t.fail(`accepted ${s.length} chars`)
    } catch (err) {
      t.ok(err instanceof InvalidEncryptionKeyError)
      t.equal((err as InvalidEncryptionKeyError).code, 'INVALID_ENCRYPTION_KEY')
      const msg = (err as Error).message
      t.match(msg, /32 bytes/)
      t.match(msg, /base64/)
      t.match(msg, /hex/)
      if (s.length > 3) t.notOk(msg.includes(s.trim()), 'message does not contain the value')
    }
  }
})

t.test('AES-256-GCM round trip, fresh IV per value, compact versioned format', async (t) => {
  const c = createCipher(randomBytes(32))
  const a = c.encrypt('hello world')
  const b = c.encrypt('hello world')
  t.match(a, /^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/)
  t.not(a, b, 'same plaintext, different ciphertext')
  t.equal(c.decrypt(a), 'hello world')
  t.equal(c.decrypt(c.encrypt('')), '')
  const iv = Buffer.from(a.split(':')[2], 'base64')
  t.equal(iv.length, 12)
})

t.test('wrong key and tampering are typed errors; key check is stable per key', async (t) => {
  const key = randomBytes(32)
  const c1 = createCipher(key)
  const c2 = createCipher(randomBytes(32))
  t.equal(createCipher(Buffer.from(key)).keyCheck, c1.keyCheck, 'same key, same check value')
  t.not(c2.keyCheck, c1.keyCheck)
  t.notOk(c1.keyCheck.includes(key.toString('base64')), 'check value is not the key')
  const text = c1.encrypt('secret')
  t.throws(() => c2.decrypt(text), { code: 'WRONG_ENCRYPTION_KEY' })
  t.throws(() => c2.verify(c1.keyCheck), WrongEncryptionKeyError)
  t.doesNotThrow(() => c1.verify(c1.keyCheck))
  const parts = text.split(':')
  const ct = Buffer.from(parts[4], 'base64')
  ct[0] ^= 1
  parts[4] = ct.toString('base64')
  t.throws(() => c1.decrypt(parts.join(':')), { code: 'WRONG_ENCRYPTION_KEY' }, 'flipped bit fails authentication')
  t.throws(() => c1.decrypt('enc:v1:AAAA'), { code: 'CORRUPT_VALUE' })
  t.throws(() => c1.decrypt('{"plain":true}'), { code: 'CORRUPT_VALUE' })
})
