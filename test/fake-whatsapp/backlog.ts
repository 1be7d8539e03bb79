// The offline backlog, as WhatsApp's server keeps it: stanzas for an account (contacts' messages,
// receipts) that arrive while none of its connections is live are kept, already encrypted, and
// delivered at the next login with the `offline` attribute, then `<ib><offline count="N"/></ib>`
// says the backlog is done. Baileys hands `offline` stanzas to its offline node processor (one
// after another), upserts those messages as 'append', and passes `{ offline: true }` to the app's
// beforeReceipt; the `ib` flushes its event buffer and sets receivedPendingNotifications.
// With redeliverUnreceipted, a message the client never receipted (it went away first, or nacked
// it) stays too and is delivered again, offline, at its next login. Baileys nacks a redelivered
// message it had already decrypted with 487 (its keys are used up: 'Key used already or never
// filled'); the fake then drops it, so only messages the client never decrypted can come back.
import { getBinaryNodeChild, getBinaryNodeChildren, type BinaryNode } from '@whiskeysockets/baileys'
import { FakeConnection } from './connection.js'
import type { Account, World } from './world.js'

/** The account's newest logged-in connection that is still open. */
export const liveConnection = (account: Account): FakeConnection | undefined =>
  [...account.connections].filter((c): c is FakeConnection => c instanceof FakeConnection && !c.closed).at(-1)

const track = (world: World, account: Account, conn: FakeConnection, node: BinaryNode): void => {
  if (world.options.redeliverUnreceipted && node.tag === 'message' && node.attrs.id) {
    account.unreceipted.set(node.attrs.id, { node, connId: conn.id })
  }
}

/** Sends `node` to the account now, or keeps it for the next login. */
export function deliverOrQueue(world: World, account: Account, node: BinaryNode): 'live' | 'queued' {
  const conn = liveConnection(account)
  if (conn) {
    conn.send(node)
    track(world, account, conn, node)
  } else account.backlog.push(node)
  world.changed()
  return conn ? 'live' : 'queued'
}

/**
 * Delivers the account's backlog on `conn` (a login that reached the last iq Baileys awaits before
 * 'open'), marked offline and in the order it was queued, then the `<ib><offline>` marker. Messages
 * earlier connections never receipted go first (redeliverUnreceipted). Returns the stanza count.
 */
export function flushBacklog(world: World, conn: FakeConnection): number {
  const account = conn.account
  if (!account) return 0
  const again = [...account.unreceipted.values()].filter(u => u.connId !== conn.id).map(u => u.node)
  const queued = [...again, ...account.backlog.splice(0)]
  for (const node of queued) {
    conn.send({ ...node, attrs: { ...node.attrs, offline: '1' } })
    track(world, account, conn, node)
  }
  conn.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(queued.length) } }] })
  world.changed()
  return queued.length
}

/**
 * A receipt (any type, with its `<list><item>` ids), an ack or a nack 487 (cannot decrypt it again)
 * from the client settles those messages; another nack (e.g. 500, the app's beforeReceipt threw) does not.
 */
export function settle(account: Account, node: BinaryNode): void {
  if (node.tag === 'ack' && (node.attrs.class !== 'message' || (node.attrs.error && node.attrs.error !== '487'))) return
  const ids = [node.attrs.id, ...getBinaryNodeChildren(getBinaryNodeChild(node, 'list'), 'item').map(i => i.attrs.id)]
  for (const id of ids) if (id) account.unreceipted.delete(id)
}
