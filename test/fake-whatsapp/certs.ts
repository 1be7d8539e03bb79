// The fake's Noise certificate chain: root -> intermediate -> leaf (the server's static key),
// the same shape WhatsApp serves. The root is derived from a fixed seed so tests (and the
// preload for child processes) can trust it by public key without sharing anything else.
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { Curve, proto } from '@whiskeysockets/baileys'

export interface KeyPair {
  private: Uint8Array
  public: Uint8Array
}

/** Fixed 32-byte seed of the fixture root key. Never used outside tests. */
export const FIXTURE_ROOT_SEED = Buffer.from(
  'f1a2c3e4b5d60718293a4b5c6d7e8f90fa1b2c3d4e5f60718293a4b5c6d7e8f0',
  'hex',
)

const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI_PREFIX_LENGTH = 12

/**
 * A root key pair from a 32-byte seed: the curve25519 public key without libsignal's 0x05 prefix.
 * Same result as libsignal's curve.getPublicFromPrivateKey(seed).subarray(1) (both clamp the
 * scalar), computed with node:crypto so no untyped libsignal export is needed.
 */
export const rootKeyFromSeed = (seed: Uint8Array): { private: Buffer; public: Buffer } => {
  if (seed.length !== 32) throw new Error('root seed must be 32 bytes')
  const priv = Buffer.from(seed)
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, priv]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { private: priv, public: Buffer.from(spki.subarray(X25519_SPKI_PREFIX_LENGTH)) }
}

/** The fixture root's public key (32 bytes), what tests put in WA_CERT_DETAILS.PUBLIC_KEY. */
export const FIXTURE_ROOT_PUBLIC_KEY: Buffer = rootKeyFromSeed(FIXTURE_ROOT_SEED).public

/**
 * Encoded proto.CertChain for a server static key: intermediate {serial 1, issuerSerial 0}
 * signed by the root, leaf {serial 2, issuerSerial 1, key: static} signed by the intermediate.
 */
export const makeCertChain = (root: KeyPair, serverStaticPublic: Uint8Array): Uint8Array => {
  const intermediate = Curve.generateKeyPair()
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 1,
    issuerSerial: 0,
    key: intermediate.public,
  }).finish()
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: 2,
    issuerSerial: 1,
    key: serverStaticPublic,
  }).finish()
  return proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) },
  }).finish()
}
