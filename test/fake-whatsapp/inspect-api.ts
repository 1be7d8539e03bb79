// The control API's inspection side: what the fake saw (decrypted messages, receipts, acks, errors),
// per-account counters, and waiting for a condition on any change of the fake's state.
import type { Account, ReceivedMessage, Receipt, World } from './world.js'

export function inspectControls(world: World, accountOf: (pn?: string) => Account, errors: string[]) {
  return {
    /** Messages the fake contacts received from companions, decrypted. */
    received(): ReceivedMessage[] {
      return [...world.received]
    },
    /** The account phone's decrypted copies of what its companion sent (deviceSentMessage). */
    deviceSent(): ReceivedMessage[] {
      return [...world.deviceSent]
    },
    /** Receipts the companion sent for messages it got (Baileys' ack for a message). */
    receipts(): Receipt[] {
      return [...world.receipts]
    },
    /** Acks (and nacks, with `error`) the companion sent. */
    acks(): Array<{ id: string; class: string; error?: string }> {
      return [...world.acks]
    },
    /** Resolves with the first truthy value of `predicate`, re-checked on every change. */
    waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          let value: T | undefined | null | false
          try {
            value = predicate()
          } catch (err) {
            done()
            reject(err)
            return
          }
          if (value) {
            done()
            resolve(value)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`fake-whatsapp waitFor timed out after ${timeoutMs} ms`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          world.off('change', check)
        }
        world.on('change', check)
        check()
      })
    },
    /** One-time pre-keys the account's companion has left on the server (812 after first login). */
    preKeyCount(pn?: string): number {
      return accountOf(pn).companion?.bundle?.preKeys.size ?? 0
    },
    /** Login handshakes (successful or refused) for the account since the fake started. */
    connectionAttempts(pn?: string): number {
      return world.loginAttempts.get(accountOf(pn).pn) ?? 0
    },
    /** Logged-in connections of the account right now. */
    liveConnections(pn?: string): number {
      return accountOf(pn).connections.size
    },
    /** The most logged-in connections the account ever had at once (2+ means two instances overlapped). */
    maxConcurrentConnections(pn?: string): number {
      return accountOf(pn).maxConcurrent
    },
    /** The paired companion (device id, JIDs) or undefined. */
    companion(pn?: string): { deviceId: number; jid: string; lid: string } | undefined {
      const a = accountOf(pn)
      const c = a.companion
      return c && { deviceId: c.deviceId, jid: `${a.pn}:${c.deviceId}@s.whatsapp.net`, lid: `${a.lid}:${c.deviceId}@lid` }
    },
    /** Total handshakes (registrations and logins). */
    handshakes(): number {
      return world.handshakes
    },
    /** Conflict stream errors ("replaced", a 440 at the client) the fake has sent, all accounts together. */
    conflictsSent(): number {
      return world.conflictsSent
    },
    /** Errors the fake hit, decrypt failures and iqs it answered with a bare result. */
    errors(): { internal: string[]; decrypt: Array<{ id: string; to: string; error: string }>; unhandledIqs: string[] } {
      return { internal: [...errors], decrypt: [...world.decryptErrors], unhandledIqs: [...world.unhandled] }
    },
    /** Subscribe to state changes (returns an unsubscribe function). */
    onChange(listener: () => void): () => void {
      world.on('change', listener)
      return () => world.off('change', listener)
    },
  }
}
