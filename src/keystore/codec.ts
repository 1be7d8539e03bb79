// Turns live Baileys values (creds and every key type, known or future) into storable strings and back.
// Plain text is Baileys' BufferJSON (Buffers and Uint8Arrays as {type:'Buffer', data:<base64>}), so the
// files stay readable JSON; with a key, that text is sealed with AES-256-GCM (see crypto.ts).
// Both backends (file and Postgres) share one codec, so a value moves between them unchanged. With a
// key, stored key ids are keyed hashes of (type, id) as well (keyId), never phone numbers or LIDs.
import { BufferJSON, proto, type AuthenticationCreds } from '@whiskeysockets/baileys'
import { Encoded } from './state.js'
import {
  CorruptValueError,
  EncryptionKeyRequiredError,
  UnencryptedSessionError,
  createCipher,
  isEncryptedText,
  parseEncryptionKey,
} from './crypto.js'

export { parseEncryptionKey } from './crypto.js'

export interface CodecOptions {
  /** SESSION_ENCRYPTION_KEY: 32 bytes as base64 or hex. Absent = values stored in plain BufferJSON. */
  encryptionKey?: string
}

/** Key types whose values Baileys expects as protobuf objects rather than plain objects. */
const revivers: Partial<Record<string, (value: unknown) => unknown>> = {
  'app-state-sync-key': (value) =>
    proto.Message.AppStateSyncKeyData.fromObject(value as Parameters<typeof proto.Message.AppStateSyncKeyData.fromObject>[0]),
}

/**
 * JSON.stringify(value, BufferJSON.replacer), the same text. A Buffer or Uint8Array value (sessions,
 * sender keys, identity keys: most writes) is written directly: through the replacer, JSON.stringify
 * first runs Buffer#toJSON (an array of one number per byte) that the replacer copies back into a Buffer
 * to base64 it, several times the cost of the base64 itself. Base64 needs no JSON escaping. Every other
 * value takes Baileys' own path (test/keystore/codec.test.ts compares both).
 */
export function bufferJson(value: unknown): string | undefined {
  if (
    value instanceof Uint8Array &&
    (Buffer.isBuffer(value) || Object.getPrototypeOf(value) === Uint8Array.prototype) &&
    !Object.prototype.hasOwnProperty.call(value, 'toJSON')
  ) {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    return `{"type":"Buffer","data":"${bytes.toString('base64')}"}`
  }
  return JSON.stringify(value, BufferJSON.replacer)
}

/** How a session's key ids are stored: as Baileys names them, or as keyed hashes (with encryption). */
export type KeyIdScheme = 'clear' | 'hmac-sha256/v1'

/** The fields every creds object Baileys can start from carries (a JSON object without them is damage). */
function looksLikeCreds(value: unknown): boolean {
  const c = value as Partial<Record<keyof AuthenticationCreds, unknown>> | null
  const pair = (p: unknown) => Buffer.isBuffer((p as { private?: unknown } | null)?.private) && Buffer.isBuffer((p as { public?: unknown }).public)
  return (
    typeof c === 'object' && c !== null && pair(c.noiseKey) && pair(c.signedIdentityKey) &&
    pair((c.signedPreKey as { keyPair?: unknown } | undefined)?.keyPair) && typeof c.registrationId === 'number'
  )
}

export function createCodec(options: CodecOptions = {}) {
  const cipher = options.encryptionKey === undefined ? null : createCipher(parseEncryptionKey(options.encryptionKey))

  /** Plain BufferJSON text of a value: what gets encrypted, or stored as-is without a key. */
  function toJson(value: unknown): string {
    const text = bufferJson(value)
    if (text === undefined) throw new TypeError('value is not serialisable')
    return text
  }

  function fromJson(type: string, text: string, clientId?: string): unknown {
    let value: unknown
    try {
      value = JSON.parse(text, BufferJSON.reviver)
    } catch {
      throw new CorruptValueError(`a "${type}" value is not valid JSON`, clientId, type)
    }
    const revive = revivers[type]
    return revive && value !== null && typeof value === 'object' ? revive(value) : value
  }

  /** The stored text of a value; an Encoded value (already this codec's text) passes through. */
  function encode(_type: string, value: unknown): string {
    if (value instanceof Encoded) return value.text
    const json = toJson(value)
    return cipher ? cipher.encrypt(json) : json
  }

  /**
   * `keyChecked`: the session's key check matched (every load checks it first), so a value that fails
   * authentication is CORRUPT_VALUE, not WRONG_ENCRYPTION_KEY.
   */
  function decode(type: string, text: string, clientId?: string, keyChecked = false): unknown {
    if (isEncryptedText(text)) {
      if (!cipher) throw new EncryptionKeyRequiredError(clientId)
      return fromJson(type, cipher.decrypt(text, clientId, { type, keyChecked }), clientId)
    }
    if (cipher) throw new UnencryptedSessionError(clientId)
    return fromJson(type, text, clientId)
  }

  function decodeCreds(text: string, clientId?: string, keyChecked = false): AuthenticationCreds {
    const creds = decode('creds', text, clientId, keyChecked)
    if (!looksLikeCreds(creds)) throw new CorruptValueError('the "creds" value is not a Baileys creds object', clientId, 'creds')
    return creds as AuthenticationCreds
  }

  /**
   * Compare the key-check value stored with a session (null = stored without encryption) with this codec.
   * Throws a typed error (WRONG_ENCRYPTION_KEY, ENCRYPTION_KEY_REQUIRED, SESSION_NOT_ENCRYPTED) on mismatch.
   */
  function verifyKeyCheck(stored: string | null | undefined, clientId?: string): void {
    if (stored == null) {
      if (cipher) throw new UnencryptedSessionError(clientId)
      return
    }
    if (!cipher) throw new EncryptionKeyRequiredError(clientId)
    cipher.verify(stored, clientId)
  }

  return {
    /** True when values are encrypted at rest. */
    encrypted: cipher !== null,
    /** Store this with the session (null without a key); pass it back to verifyKeyCheck at load. */
    keyCheck: cipher ? cipher.keyCheck : null,
    encode,
    decode,
    encodeCreds: (creds: AuthenticationCreds): string => encode('creds', creds),
    decodeCreds,
    verifyKeyCheck,
    keyIds: (cipher ? 'hmac-sha256/v1' : 'clear') as KeyIdScheme,
    /** The id a key is stored under: Baileys' id without a key, a keyed hash of (type, id) with one. */
    keyId: cipher ? (type: string, id: string) => cipher.keyId(type, id) : (_type: string, id: string) => id,
  }
}

export type Codec = ReturnType<typeof createCodec>
