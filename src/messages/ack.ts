// Waits for WhatsApp's server to acknowledge a message stanza (<ack class="message" id=…>): Baileys'
// sendMessage resolves once the stanza is written, and the API answers 200 only once the server has
// the message. An ack with an error attribute is a refusal; a closed socket or no ack in time leaves
// the outcome unknown.
import type { BinaryNode } from '@whiskeysockets/baileys'
import type { Clock } from '../lib/clock.js'
import type { WASocket } from '../whatsapp/socket.js'

export type AckResult = { kind: 'ack'; at: Date } | { kind: 'error'; code: string } | { kind: 'timeout' } | { kind: 'closed' }

export function createAckWaiter(clock: Clock) {
  // One close listener per socket, whatever the number of sends waiting on it.
  const waiting = new WeakMap<WASocket, Set<() => void>>()
  function onClose(sock: WASocket, fn: () => void): () => void {
    let set = waiting.get(sock)
    if (!set) {
      const fns = new Set<() => void>()
      set = fns
      waiting.set(sock, fns)
      sock.ev.on('connection.update', (update) => {
        if (update.connection === 'close') for (const f of [...fns]) f()
      })
    }
    set.add(fn)
    const fns = set
    return () => fns.delete(fn)
  }

  /** Listens before the send (the ack may arrive as soon as the stanza is out); cancel() if the send fails. */
  function awaitServerAck(sock: WASocket, messageId: string, timeoutMs: number): { result: Promise<AckResult>; cancel(): void } {
    const event = `CB:ack,id:${messageId}`
    let finish: (r: AckResult) => void = () => undefined
    const result = new Promise<AckResult>((resolve) => {
      finish = resolve
    })
    const onAck = (node: BinaryNode) => {
      if (node.attrs.class && node.attrs.class !== 'message') return
      done(node.attrs.error ? { kind: 'error', code: node.attrs.error } : { kind: 'ack', at: new Date() })
    }
    const timer = clock.setTimeout(() => done({ kind: 'timeout' }), timeoutMs)
    const stopWatching = onClose(sock, () => done({ kind: 'closed' }))
    function done(r: AckResult): void {
      clock.clearTimeout(timer)
      sock.ws.off(event, onAck)
      stopWatching()
      finish(r)
    }
    sock.ws.on(event, onAck)
    return { result, cancel: () => done({ kind: 'closed' }) }
  }

  return { awaitServerAck }
}
