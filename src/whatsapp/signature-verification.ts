// Makes Baileys actually check Curve signatures. Call enforceSignatureVerification() once at
// start-up, before the first socket is created (server.ts does).
//
// Why: in @whiskeysockets/baileys 7.0.0-rc14, Curve.verify (Utils/crypto.js) wraps libsignal's
// curve.verifySignature() in try/catch and returns true whenever nothing was thrown. libsignal
// 6.0.0 does not throw on a bad signature, it returns false, and Baileys drops that value. So
// Curve.verify(anyKey, msg, any64ByteSignature) is true, which switches off:
//   - the Noise certificate chain check (Utils/noise-handler.js): anyone on the network path who
//     can answer the websocket could pose as WhatsApp's server;
//   - the ADV account-signature check when pairing (Utils/validate-connection.js).
// Both modules call `Curve.verify(...)` through the same exported object at call time (they
// import { Curve } from './crypto.js', which is what the package root re-exports; Baileys is
// ESM-only so there is one instance), so replacing the property on that object is enough.
//
// The replacement keeps Baileys' contract (boolean, never throws) and honours libsignal's verdict.
// It is idempotent: the patched function is tagged, so a second call does nothing. If a later
// Baileys fixes Curve.verify, this stays correct (it only ever turns a true into a false for a
// signature that does not verify). Signal's own signed-pre-key check (isInit) is unaffected.
import { Curve, generateSignalPubKey } from '@whiskeysockets/baileys'
import { verifySignature } from 'libsignal/src/curve.js'

const PATCHED = Symbol.for('whatsapp-backend.curve-verify-enforced')

type Verify = typeof Curve.verify

/** Honours the boolean libsignal returns; invalid input (wrong key or signature size) is false. */
export const strictVerify: Verify = (pubKey, message, signature) => {
  try {
    return verifySignature(generateSignalPubKey(Buffer.from(pubKey)), message, signature) === true
  } catch {
    return false
  }
}

const isPatched = (fn: Verify): boolean => PATCHED in fn

/** Patches Baileys' exported Curve.verify in place. Safe to call more than once. */
export const enforceSignatureVerification = (): void => {
  if (isPatched(Curve.verify)) return
  const verify: Verify = (pubKey, message, signature) => strictVerify(pubKey, message, signature)
  Object.defineProperty(verify, PATCHED, { value: true })
  Curve.verify = verify
}

/** True once enforceSignatureVerification() ran (health checks, tests). */
export const isSignatureVerificationEnforced = (): boolean => isPatched(Curve.verify)
