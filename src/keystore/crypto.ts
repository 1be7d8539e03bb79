// Encryption at rest for session values: AES-256-GCM, a random 12-byte IV per value, and a compact,
// versioned text form `enc:v1:<b64 iv>:<b64 tag>:<b64 ciphertext>` that fits a JSON string or a text
// column. A key-check value (an HMAC of a fixed label) is stored beside each session so a wrong key is
// caught at load, before anything is decrypted or written. Key ids are stored as keyed hashes (a third
// subkey), so the stored ids say nothing about who the account talks to. No message here ever contains
// key material, plaintext or a key id.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { StoreDataError } from '../lib/store-errors.js'

export const ENCRYPTED_PREFIX = 'enc:v1:'
const KEY_CHECK_PREFIX = 'kcv:v1:'
const IV_BYTES = 12
const TAG_BYTES = 16

function where(clientId?: string): string {
  return clientId ? ` for session "${clientId}"` : ''
}

/** What each key mismatch says; `at` names the session. Nothing is changed by any of them. */
const MISMATCH = {
  WRONG_ENCRYPTION_KEY: (at: string) => `SESSION_ENCRYPTION_KEY does not match the key the stored session${at} was written with (or the stored data was altered); nothing was changed. Start with the original key.`,
  ENCRYPTION_KEY_REQUIRED: (at: string) => `The stored session${at} is encrypted but SESSION_ENCRYPTION_KEY is not set; nothing was changed. Set it to the key the session was written with.`,
  SESSION_NOT_ENCRYPTED: (at: string) => `SESSION_ENCRYPTION_KEY is set but the stored session${at} was written without encryption; nothing was changed. Unset the key to use it, or delete the session and pair again.`,
}

/** A StoreDataError class for one key mismatch, named `name`. */
function mismatchError<C extends keyof typeof MISMATCH>(code: C, name: string) {
  const cls = class extends StoreDataError {
    readonly code: C = code
    constructor(readonly clientId?: string) {
      super(MISMATCH[code](where(clientId)))
      this.name = name
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

/** The configured key is not the one the stored session was written with. */
export const WrongEncryptionKeyError = mismatchError('WRONG_ENCRYPTION_KEY', 'WrongEncryptionKeyError')
export type WrongEncryptionKeyError = InstanceType<typeof WrongEncryptionKeyError>
/** The stored session is encrypted but no key is configured. */
export const EncryptionKeyRequiredError = mismatchError('ENCRYPTION_KEY_REQUIRED', 'EncryptionKeyRequiredError')
export type EncryptionKeyRequiredError = InstanceType<typeof EncryptionKeyRequiredError>
/** A key is configured but the stored session was written without encryption. */
export const UnencryptedSessionError = mismatchError('SESSION_NOT_ENCRYPTED', 'UnencryptedSessionError')
export type UnencryptedSessionError = InstanceType<typeof UnencryptedSessionError>

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

/**
 * A stored value cannot be read: truncated, hand-edited, of an unknown format, or (the key check having
 * passed) failing its integrity check. Names the value's type, never its id (ids can be phone numbers).
 */
export class CorruptValueError extends StoreDataError {
  readonly code = 'CORRUPT_VALUE'
  constructor(detail: string, readonly clientId?: string, readonly valueType?: string) {
    super(`A stored value${where(clientId)} cannot be read: ${detail}; nothing was changed.`)
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
  const idKey = subkey(masterKey, 'key-id/v1')
  const keyCheck =
    KEY_CHECK_PREFIX +
    createHmac('sha256', subkey(masterKey, 'key-check/v1')).update('key-check').digest().subarray(0, 16).toString('base64')

  function encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `${ENCRYPTED_PREFIX}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`
  }

  /**
   * `stored.keyChecked`: the session's key check already matched this key, so a value failing
   * authentication is damaged or altered (CORRUPT_VALUE), not encrypted under another key.
   */
  function decrypt(text: string, clientId?: string, stored?: { type: string; keyChecked: boolean }): string {
    const what = stored ? `a "${stored.type}" value ` : ''
    const corrupt = (detail: string) => new CorruptValueError(`${what}${detail}`, clientId, stored?.type)
    if (!isEncryptedText(text)) throw corrupt('not in the enc:v1 format')
    const parts = text.slice(ENCRYPTED_PREFIX.length).split(':')
    if (parts.length !== 3) throw corrupt('malformed enc:v1 value')
    const iv = Buffer.from(parts[0], 'base64')
    const tag = Buffer.from(parts[1], 'base64')
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw corrupt('malformed enc:v1 value')
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAuthTag(tag)
    try {
      return Buffer.concat([decipher.update(Buffer.from(parts[2], 'base64')), decipher.final()]).toString('utf8')
    } catch {
      if (stored?.keyChecked) throw corrupt('failed its integrity check (damaged or altered)')
      throw new WrongEncryptionKeyError(clientId)
    }
  }

  /** A stored key id that names no contact: a keyed hash of (type, id), 16 bytes as base64url. */
  function keyId(type: string, id: string): string {
    return createHmac('sha256', idKey).update(type).update('\0').update(id).digest().subarray(0, 16).toString('base64url')
  }

  /** Throws WrongEncryptionKeyError unless `stored` is this key's check value. */
  function verify(stored: string, clientId?: string): void {
    const a = Buffer.from(stored)
    const b = Buffer.from(keyCheck)
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new WrongEncryptionKeyError(clientId)
  }

  return { encrypt, decrypt, keyCheck, verify, keyId }
}

export type Cipher = ReturnType<typeof createCipher>
