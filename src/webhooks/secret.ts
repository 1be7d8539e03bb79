// Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes. Generated when the caller
// gives none, shown once, and afterwards only as `whsec_…last4`.
import { randomBytes } from 'node:crypto'

const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/

export function isValidSecret(secret: string): boolean {
  if (!SECRET.test(secret)) return false
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length
  return bytes >= 24 && bytes <= 64
}

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** What GET shows of a secret. */
export function maskSecret(secret: string): string {
  return `whsec_…${secret.slice(-4)}`
}
