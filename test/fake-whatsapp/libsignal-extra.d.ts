// libsignal 6.0.0 ships typings for its index and curve module, but curve.d.ts leaves out
// getPublicFromPrivateKey, which the fake uses to derive its fixture root key from a fixed seed.
export {}

declare module 'libsignal/src/curve.js' {
  export function getPublicFromPrivateKey(privKey: Uint8Array): Buffer
}
