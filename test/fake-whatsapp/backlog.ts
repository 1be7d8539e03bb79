// The offline backlog, as WhatsApp's server keeps it: stanzas for an account (contacts' messages,
// receipts) that arrive while none of its connections is live are kept, already encrypted, and
// delivered at the next login with the `offline` attribute, then `<ib><offline count="N"/></ib>`
// says the backlog is done. Baileys hands `offline` stanzas to its offline node processor (one
// after another), upserts those messages as 'append', and passes `{ offline: true }` to the app's
// beforeReceipt; the `ib` flushes its event buffer and sets receivedPendingNotifications.
import type { BinaryNode } from '@whiskeysockets/baileys'
import { FakeConnection } from './connection.js'
import type { Account, World } from './world.js'

/** The account's newest logged-in connection that is still open. */
export const liveConnection = (account: Account): FakeConnection | undefined =>
  [...account.connections].filter((c): c is FakeConnection => c instanceof FakeConnection && !c.closed).at(-1)

/** Sends `node` to the account now, or keeps it for the next login. */
export function deliverOrQueue(world: World, account: Account, node: BinaryNode): 'live' | 'queued' {
  const conn = liveConnection(account)
  if (conn) conn.send(node)
  else account.backlog.push(node)
  world.changed()
  return conn ? 'live' : 'queued'
}

/**
 * Delivers the account's backlog on `conn` (a login that reached the last iq Baileys awaits before
 * 'open'), marked offline and in the order it was queued, then the `<ib><offline>` marker.
 * Returns how many stanzas it delivered.
 */
export function flushBacklog(world: World, conn: FakeConnection): number {
  const account = conn.account
  if (!account) return 0
  const queued = account.backlog.splice(0)
  for (const node of queued) conn.send({ ...node, attrs: { ...node.attrs, offline: '1' } })
  conn.send({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(queued.length) } }] })
  world.changed()
  return queued.length
}
