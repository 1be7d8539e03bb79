// The changes this server makes to Baileys (scripts/patches, applied by `npm install` through
// patch-package):
//  - a `beforeReceipt(message, { offline })` socket option awaited after an incoming message is
//    decrypted and before its receipt is sent, so the server stores the message before WhatsApp
//    considers it delivered. Without it a crash between the receipt and the store loses messages
//    WhatsApp will never send again, so the server refuses to start on an unpatched install;
//  - each socket's key-transaction AsyncLocalStorage is disabled while no transaction runs (on Node 20
//    every enabled storage is visited for every promise of the process: hundreds of idle sessions
//    would tax everything; test/whatsapp/transaction-context.test.ts).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WAMessage } from '@whiskeysockets/baileys'

export type BeforeReceipt = (message: WAMessage, info: { offline: boolean }) => Promise<void>

/** The patched file, as installed. */
export function receiptHookSource(): string {
  const entry = fileURLToPath(import.meta.resolve('@whiskeysockets/baileys'))
  return join(dirname(entry), 'Socket', 'messages-recv.js')
}

export function isReceiptHookPatched(): boolean {
  try {
    const recv = readFileSync(receiptHookSource(), 'utf8')
    const auth = readFileSync(join(dirname(receiptHookSource()), '..', 'Utils', 'auth-utils.js'), 'utf8')
    return recv.includes('await config.beforeReceipt(msg, { offline: !!node.attrs.offline })') && auth.includes('txStorage.disable()')
  } catch {
    return false
  }
}

export class BaileysNotPatchedError extends Error {
  constructor() {
    super(
      'The installed @whiskeysockets/baileys lacks this server\'s receipt patch (scripts/patches), so incoming ' +
        'messages could be lost in a crash. Run `npm install` (or `npx patch-package --patch-dir scripts/patches`) ' +
        'without --ignore-scripts, then start again.',
    )
    this.name = 'BaileysNotPatchedError'
  }
}

export function assertReceiptHookPatched(): void {
  if (!isReceiptHookPatched()) throw new BaileysNotPatchedError()
}
