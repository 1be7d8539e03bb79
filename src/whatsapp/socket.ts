// The Baileys socket as every session opens it: the options in one place, chosen for a server that
// keeps many accounts connected and only sends and receives (no chat history, no presence).
import makeWASocket, { Browsers, type WASocket } from '@whiskeysockets/baileys'
import type { Logger } from 'pino'
import type { AuthStateHandle } from '../keystore/types.js'
import { releaseIdleTransactionContexts } from './transaction-context.js'

export type { WASocket }

export interface SocketOptions {
  handle: AuthStateHandle
  logger: Logger
  qrTimeoutMs: number
  /** Test/dev override of the WhatsApp websocket URL. */
  waWsUrl?: string
}

const BROWSER = Browsers.ubuntu('Chrome')

export function openSocket({ handle, logger, qrTimeoutMs, waWsUrl }: SocketOptions): WASocket {
  // Once per process, before the first socket: see transaction-context.ts.
  releaseIdleTransactionContexts()
  return makeWASocket({
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
  })
}
