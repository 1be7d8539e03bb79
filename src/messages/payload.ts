// How a message is kept at rest: Baileys' WebMessageInfo protobuf, base64, sealed with the keystore's
// AES-256-GCM cipher when SESSION_ENCRYPTION_KEY is set (contents, contacts' numbers and media keys
// never reach the disk or the database in clear text then).
import { proto, type WAMessage } from '@whiskeysockets/baileys'
import { createCipher, EncryptionKeyRequiredError, isEncryptedText, parseEncryptionKey } from '../keystore/crypto.js'

export interface Sealer {
  readonly encrypted: boolean
  seal(plain: string): string
  open(text: string): string
}

/** Encrypts with SESSION_ENCRYPTION_KEY when set; values written before a key was set are read as they are. */
export function createSealer(encryptionKey?: string): Sealer {
  if (!encryptionKey) {
    return {
      encrypted: false,
      seal: (plain) => plain,
      open(text) {
        if (isEncryptedText(text)) throw new EncryptionKeyRequiredError()
        return text
      },
    }
  }
  const cipher = createCipher(parseEncryptionKey(encryptionKey))
  return {
    encrypted: true,
    seal: (plain) => cipher.encrypt(plain),
    open: (text) => (isEncryptedText(text) ? cipher.decrypt(text) : text),
  }
}

export function encodeMessage(message: WAMessage): string {
  return Buffer.from(proto.WebMessageInfo.encode(message).finish()).toString('base64')
}

export function decodeMessage(text: string): WAMessage {
  const decoded = proto.WebMessageInfo.decode(Buffer.from(text, 'base64'))
  decoded.key ??= {}
  return decoded as WAMessage
}
