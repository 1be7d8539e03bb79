// Baileys rc14's Curve.verify accepts any signature; enforceSignatureVerification() makes it
// honour libsignal's verdict. Proven at unit level and end to end against the fake server: a
// certificate chain from the wrong root is refused, the trusted root (the tests' fixture,
// injected through WA_CERT_DETAILS.PUBLIC_KEY as the test preload does) pairs and opens.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Curve, WA_CERT_DETAILS } from '@whiskeysockets/baileys'
import {
  enforceSignatureVerification,
  isSignatureVerificationEnforced,
  strictVerify,
} from '../../src/whatsapp/signature-verification.js'
import { FIXTURE_ROOT_PUBLIC_KEY, startFakeWhatsApp } from '../fake-whatsapp/index.js'
import { connectClient } from '../fake-whatsapp/client.js'

const unpatchedVerify = Curve.verify
const key = Curve.generateKeyPair()
const other = Curve.generateKeyPair()
const msg = Buffer.from('certificate details')
const sig = Curve.sign(key.private, msg)

t.test('unit: strict verification', async t => {
  t.equal(strictVerify(key.public, msg, sig), true, 'a valid signature verifies')
  t.equal(strictVerify(key.public, msg, randomBytes(64)), false, 'a garbage signature does not')
  t.equal(strictVerify(other.public, msg, sig), false, 'the wrong key does not')
  t.equal(strictVerify(key.public, Buffer.from('other details'), sig), false, 'another message does not')
  t.equal(strictVerify(key.public, msg, sig.subarray(0, 10)), false, 'a short signature is false, not a throw')
  // Documents the Baileys bug this patch exists for. If this fails, Baileys fixed Curve.verify
  // and the patch is redundant (still harmless).
  t.equal(unpatchedVerify(other.public, msg, randomBytes(64)), true, 'unpatched Baileys accepts garbage')
})

t.test('unit: enforceSignatureVerification patches the exported Curve, once', async t => {
  t.equal(isSignatureVerificationEnforced(), false)
  enforceSignatureVerification()
  const patched = Curve.verify
  enforceSignatureVerification()
  t.equal(Curve.verify, patched, 'idempotent')
  t.equal(isSignatureVerificationEnforced(), true)
  t.equal(Curve.verify(key.public, msg, sig), true)
  t.equal(Curve.verify(key.public, msg, randomBytes(64)), false)
})

t.test('end to end against the fake server', async t => {
  enforceSignatureVerification()
  const originalRoot = WA_CERT_DETAILS.PUBLIC_KEY
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(FIXTURE_ROOT_PUBLIC_KEY)
  t.teardown(() => {
    WA_CERT_DETAILS.PUBLIC_KEY = originalRoot
  })
  const dirs: string[] = []
  const authDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sigverify-'))
    dirs.push(d)
    return d
  }
  t.teardown(() => dirs.forEach(d => rmSync(d, { recursive: true, force: true })))

  t.test('a fake signed by the wrong root is refused before any QR', async t => {
    const fake = await startFakeWhatsApp({ rootSeed: randomBytes(32) })
    t.teardown(() => fake.close())
    t.not(fake.rootPublicKey.toString('hex'), FIXTURE_ROOT_PUBLIC_KEY.toString('hex'))
    const client = await connectClient(fake.url, authDir())
    t.teardown(() => client.end())
    const code = await client.closed()
    t.equal(code, 400, 'closed by the certificate check')
    t.notOk(client.updates.some(u => u.qr), 'never reached QR')
    t.equal(fake.waitingForScan(), 0)
  })

  t.test('a fake signed by the trusted root pairs and opens', async t => {
    const fake = await startFakeWhatsApp()
    t.teardown(() => fake.close())
    const dir = authDir()
    const first = await connectClient(fake.url, dir)
    t.teardown(() => first.end())
    const paired = await fake.scanQR(await first.qr())
    t.equal(await first.closed(), 515, 'restart required after pairing')
    const second = await connectClient(fake.url, dir)
    t.teardown(() => second.end())
    await second.open()
    t.equal(second.sock.user?.id, paired.jid)
  })

  t.test('an ADV identity not signed by the account key is refused at pairing', async t => {
    const fake = await startFakeWhatsApp()
    t.teardown(() => fake.close())
    const client = await connectClient(fake.url, authDir())
    t.teardown(() => client.end())
    const scan = fake.scanQR(await client.qr(), { corruptAccountSignature: true })
    await t.rejects(scan, /closed the connection before pairing completed/)
    await client.closed()
    t.equal(fake.companion(), undefined, 'nothing paired')
    t.equal(client.sock.authState.creds.me, undefined, 'the client stored no account')
  })
})

t.test('unit: the fixture root signs what its public key verifies', async t => {
  const { rootKeyFromSeed, FIXTURE_ROOT_SEED } = await import('../fake-whatsapp/certs.js')
  const { getPublicFromPrivateKey } = await import('libsignal/src/curve.js').then(m => ({
    getPublicFromPrivateKey: 'getPublicFromPrivateKey' in m && typeof m.getPublicFromPrivateKey === 'function' ? m.getPublicFromPrivateKey : undefined,
  }))
  const root = rootKeyFromSeed(FIXTURE_ROOT_SEED)
  t.equal(root.public.length, 32)
  t.same(root.public, FIXTURE_ROOT_PUBLIC_KEY)
  if (getPublicFromPrivateKey) {
    const viaLibsignal: unknown = getPublicFromPrivateKey(FIXTURE_ROOT_SEED)
    t.same(Buffer.isBuffer(viaLibsignal) ? viaLibsignal.subarray(1) : undefined, root.public, 'same as libsignal getPublicFromPrivateKey')
  }
  const details = Buffer.from('intermediate details')
  t.equal(strictVerify(root.public, details, Curve.sign(root.private, details)), true)
})
