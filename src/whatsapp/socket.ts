// The Baileys socket as every session opens it: the options in one place, chosen for a server that
// keeps many accounts connected and only sends and receives (no chat history, no presence).
import makeWASocket, { Browsers, type UserFacingSocketConfig, type WASocket } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { AuthStateHandle } from '../keystore/types.js'
import type { BeforeReceipt } from './baileys-patch.js'
import type { SessionReporter } from './observers.js'

export type { WASocket }

export interface SocketOptions {
  handle: AuthStateHandle
  logger: Logger
  qrTimeoutMs: number
  /** Test/dev override of the WhatsApp websocket URL. */
  waWsUrl?: string
  /** Where incoming messages are made durable before their receipt, and retried messages are found. */
  reporter: Pick<SessionReporter, 'beforeReceipt' | 'hasBeforeReceipt' | 'getMessage'>
}

const BROWSER = Browsers.ubuntu('Chrome')

export function openSocket({ handle, logger, qrTimeoutMs, waWsUrl, reporter }: SocketOptions): WASocket {
  // beforeReceipt is this server's Baileys patch (baileys-patch.ts), unknown to Baileys' types.
  const config: UserFacingSocketConfig & { beforeReceipt?: BeforeReceipt } = {
    auth: handle.state,
    logger,
    browser: BROWSER,
    // Not "online" on the phone's contacts' screens: the account's people keep their notifications.
    markOnlineOnConnect: false,
    // Nothing here reads chat history: do not ask for the full one. (The recent sync stays on: Baileys
    // learns its first LID mappings from it.)
    syncFullHistory: false,
    qrTimeout: qrTimeoutMs,
    ...(waWsUrl ? { waWebSocketUrl: waWsUrl } : {}),
    // A recipient that could not decrypt asks again: answer from the observers' store.
    getMessage: (key) => reporter.getMessage(key),
    ...(reporter.hasBeforeReceipt() ? { beforeReceipt: (message, info) => reporter.beforeReceipt(message, info) } : {}),
  }
  return makeWASocket(config)
}
