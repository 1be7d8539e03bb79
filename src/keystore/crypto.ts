// Encryption at rest for session values: AES-256-GCM, a random 12-byte IV per value, and a compact,
// versioned text form `enc:v1:<b64 iv>:<b64 tag>:<b64 ciphertext>` that fits a JSON string or a text
// column. A key-check value (an HMAC of a fixed label) is stored beside each session so a wrong key is
// caught at load, before anything is decrypted or written. No message here ever contains key material
// or plaintext.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { StoreDataError } from '../lib/store-errors.js'

export const ENCRYPTED_PREFIX = 'enc:v1:'
const KEY_CHECK_PREFIX = 'kcv:v1:'
const IV_BYTES = 12
const TAG_BYTES = 16

function where(clientId?: string): string {
  return clientId ? ` for session "${clientId}"` : ''
}

/** SESSION_ENCRYPTION_KEY is not 32 bytes in base64 or hex. */
export class InvalidEncryptionKeyError extends StoreDataError {
  readonly code = 'INVALID_ENCRYPTION_KEY'
  constructor(length: number) {
    super(
      'SESSION_ENCRYPTION_KEY must be 32 bytes given as base64 (44 characters, e.g. `openssl rand -base64 32`) ' +
        `or hex (64 characters, e.g. \`openssl rand -hex 32\`); the value given has ${length} characters.`,
    )
    this.name = 'InvalidEncryptionKeyError'
  }
}

/** The configured key is not the one the stored session was written with. Nothing was changed. */
export class WrongEncryptionKeyError extends StoreDataError {
  readonly code = 'WRONG_ENCRYPTION_KEY'
  constructor(clientId?: string) {
    super(
      `SESSION_ENCRYPTION_KEY does not match the key the stored session${where(clientId)} was written with ` +
        '(or the stored data was altered); nothing was changed. Start with the original key.',
    )
    this.name = 'WrongEncryptionKeyError'
  }
}

/** The stored session is encrypted but no key is configured. Nothing was changed. */
export class EncryptionKeyRequiredError extends StoreDataError {
  readonly code = 'ENCRYPTION_KEY_REQUIRED'
  constructor(clientId?: string) {
    super(
      `The stored session${where(clientId)} is encrypted but SESSION_ENCRYPTION_KEY is not set; ` +
        'nothing was changed. Set it to the key the session was written with.',
    )
    this.name = 'EncryptionKeyRequiredError'
  }
}

/** A key is configured but the stored session was written without encryption. Nothing was changed. */
export class UnencryptedSessionError extends StoreDataError {
  readonly code = 'SESSION_NOT_ENCRYPTED'
  constructor(clientId?: string) {
    super(
      `SESSION_ENCRYPTION_KEY is set but the stored session${where(clientId)} was written without encryption; ` +
        'nothing was changed. Unset the key to use it, or delete the session and pair again.',
    )
    this.name = 'UnencryptedSessionError'
  }
}

/** A stored value is not in any format this version can read (truncated, hand-edited, unknown version). */
export class CorruptValueError extends StoreDataError {
  readonly code = 'CORRUPT_VALUE'
  constructor(detail: string, clientId?: string) {
    super(`A stored value${where(clientId)} cannot be read: ${detail}.`)
    this.name = 'CorruptValueError'
  }
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}={0,1}$/

/** 32 bytes from base64 (standard or url-safe) or 64 hex characters; anything else throws. */
export function parseEncryptionKey(text: string): Buffer {
  const s = text.trim()
  if (HEX_KEY.test(s)) return Buffer.from(s, 'hex')
  if (BASE64_KEY.test(s)) {
    const key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (key.length === 32) return key
  }
  throw new InvalidEncryptionKeyError(s.length)
}

export function isEncryptedText(text: string): boolean {
  return text.startsWith(ENCRYPTED_PREFIX)
}

/** Separate subkeys for encryption and the key check, so the stored check says nothing about the cipher key. */
function subkey(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `whatsapp-backend/keystore/${label}`, 32))
}

export function createCipher(masterKey: Buffer) {
  if (masterKey.length !== 32) throw new InvalidEncryptionKeyError(masterKey.length)
  const key = subkey(masterKey, 'aes-256-gcm/v1')
  const keyCheck =
    KEY_CHECK_PREFIX +
    createHmac('sha256', subkey(masterKey, 'key-check/v1')).update('key-check').digest().subarray(0, 16).toString('base64')

  function encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `${ENCRYPTED_PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`
  }

  function decrypt(text: string, clientId?: string): string {
    if (!isEncryptedText(text)) throw new CorruptValueError('not in the enc:v1 format', clientId)
    const parts = text.slice(ENCRYPTED_PREFIX.length).split(':')
    if (parts.length !== 3) throw new CorruptValueError('malformed enc:v1 value', clientId)
    const iv = Buffer.from(parts[0], 'base64')
    const tag = Buffer.from(parts[1], 'base64')
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CorruptValueError('malformed enc:v1 value', clientId)
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAuthTag(tag)
    try {
      return Buffer.concat([decipher.update(Buffer.from(parts[2], 'base64')), decipher.final()]).toString('utf8')
    } catch {
      throw new WrongEncryptionKeyError(clientId)
    }
  }

  /** Throws WrongEncryptionKeyError unless `stored` is this key's check value. */
  function verify(stored: string, clientId?: string): void {
    const a = Buffer.from(stored)
    const b = Buffer.from(keyCheck)
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new WrongEncryptionKeyError(clientId)
  }

  return { encrypt, decrypt, keyCheck, verify }
}

export type Cipher = ReturnType<typeof createCipher>
