// Answers the iqs Baileys sends, dispatched on xmlns/type/first child. Anything unknown gets an
// empty result: Baileys awaits most queries and would otherwise stall for 60 s.
import {
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  getBinaryNodeChildren,
  jidDecode,
  type BinaryNode,
} from '@whiskeysockets/baileys'
import type { FakeConnection } from './connection.js'
import { groupIqHandlers } from './groups.js'
import { bundleNodes, type PublicBundle } from './signal.js'
import type { Account, Companion, World } from './world.js'

export type IqHandler = (world: World, conn: FakeConnection, iq: BinaryNode, child: BinaryNode | undefined) => BinaryNode[] | undefined

const uint = (b: Uint8Array | undefined): number => (b && b.length ? Buffer.from(b).readUIntBE(0, b.length) : 0)
const buf = (node: BinaryNode | undefined, tag: string): Buffer => {
  const b = getBinaryNodeChildBuffer(node, tag)
  if (!b) throw new Error(`missing <${tag}>`)
  return Buffer.from(b)
}

const companionOf = (conn: FakeConnection): Companion | undefined =>
  conn.account?.companion?.deviceId === conn.deviceId ? conn.account?.companion : undefined

const storeUpload: IqHandler = (world, conn, iq) => {
  const companion = companionOf(conn)
  if (!companion) throw new Error('pre-key upload from a connection that is not logged in')
  const skey = getBinaryNodeChild(iq, 'skey')
  const preKeys = companion.bundle?.preKeys ?? new Map<number, Buffer>()
  for (const key of getBinaryNodeChildren(getBinaryNodeChild(iq, 'list'), 'key')) {
    preKeys.set(uint(getBinaryNodeChildBuffer(key, 'id')), buf(key, 'value'))
  }
  companion.bundle = {
    registrationId: uint(getBinaryNodeChildBuffer(iq, 'registration')),
    identity: buf(iq, 'identity'),
    signedPreKey: { keyId: uint(getBinaryNodeChildBuffer(skey, 'id')), public: buf(skey, 'value'), signature: buf(skey, 'signature') },
    preKeys,
  }
  world.changed()
  return undefined
}

/** The fake device behind a JID (`user[:device]@server`), and its key bundle. */
const bundleFor = (world: World, jid: string): PublicBundle | undefined => {
  const decoded = jidDecode(jid)
  if (!decoded) return undefined
  const device = decoded.device ?? 0
  const contact = world.contactByUser(decoded.user)
  if (contact) return device === 0 ? contact.device.takeBundle() : undefined
  const account = world.accountByUser(decoded.user)
  if (!account) return undefined
  if (device === 0) return account.phone.takeBundle()
  return account.companion?.deviceId === device ? world.takeUploadedBundle(account.companion) : undefined
}

const keyFetch: IqHandler = (world, _conn, _iq, child) => {
  const users: BinaryNode[] = []
  for (const user of getBinaryNodeChildren(child, 'user')) {
    const bundle = bundleFor(world, user.attrs.jid ?? '')
    // An <error> in any user fails Baileys' whole batch, so unknown devices are left out instead.
    if (bundle) users.push({ tag: 'user', attrs: { jid: user.attrs.jid ?? '' }, content: bundleNodes(bundle) })
  }
  return [{ tag: 'list', attrs: {}, content: users }]
}

const devicesOf = (account: Account | undefined): BinaryNode[] => {
  const devices: BinaryNode[] = [{ tag: 'device', attrs: { id: '0' } }]
  if (account?.companion) devices.push({ tag: 'device', attrs: { id: String(account.companion.deviceId), 'key-index': '1' } })
  return devices
}

const usync: IqHandler = (world, conn, _iq, child) => {
  const query = getBinaryNodeChild(child, 'query')
  const wants = (tag: string) => !!getBinaryNodeChild(query, tag)
  const asker = companionOf(conn)
  const users: BinaryNode[] = []
  for (const user of getBinaryNodeChildren(getBinaryNodeChild(child, 'list'), 'user')) {
    const phoneQuery = getBinaryNodeChild(user, 'contact')?.content
    const raw = user.attrs.jid ?? (typeof phoneQuery === 'string' ? phoneQuery : phoneQuery instanceof Uint8Array ? Buffer.from(phoneQuery).toString() : '')
    const userPart = raw.includes('@') ? (jidDecode(raw)?.user ?? '') : raw.replace(/[^0-9]/g, '')
    const contact = world.contactByUser(userPart)
    const account = contact ? undefined : world.accountByUser(userPart)
    const known = contact ?? account
    const pnJid = known ? `${known.pn}@s.whatsapp.net` : `${userPart}@s.whatsapp.net`
    const content: BinaryNode[] = []
    if (wants('contact')) content.push({ tag: 'contact', attrs: { type: known ? 'in' : 'out' } })
    if (wants('devices')) {
      content.push({
        tag: 'devices',
        attrs: {},
        content: [{ tag: 'device-list', attrs: {}, content: known ? devicesOf(account) : [] }],
      })
    }
    if (wants('lid') && known) {
      const firstTime = !asker?.lidsGiven.has(known.pn)
      if (!world.options.lidOnFirstLookupOnly || firstTime || getBinaryNodeChild(query, 'devices') === undefined) {
        content.push({ tag: 'lid', attrs: { val: `${known.lid}@lid` } })
        asker?.lidsGiven.add(known.pn)
      }
    }
    users.push({ tag: 'user', attrs: { jid: pnJid }, content })
  }
  return [
    {
      tag: 'usync',
      attrs: { sid: child?.attrs.sid ?? '', index: '0', last: 'true' },
      content: [
        { tag: 'result', attrs: {} },
        { tag: 'list', attrs: {}, content: users },
      ],
    },
  ]
}

const handlers: Record<string, IqHandler> = {
  'encrypt/get/count': (_w, conn) => [{ tag: 'count', attrs: { value: String(companionOf(conn)?.bundle?.preKeys.size ?? 0) } }],
  'encrypt/set/registration': storeUpload,
  'encrypt/set/rotate': (world, conn, _iq, child) => {
    const bundle = companionOf(conn)?.bundle
    const skey = getBinaryNodeChild(child, 'skey')
    if (bundle && skey) {
      bundle.signedPreKey = { keyId: uint(getBinaryNodeChildBuffer(skey, 'id')), public: buf(skey, 'value'), signature: buf(skey, 'signature') }
      world.changed()
    }
    return undefined
  },
  // Baileys only checks that a <digest> child is there; without it, it uploads more pre-keys.
  'encrypt/get/digest': () => [{ tag: 'digest', attrs: {} }],
  'encrypt/get/key': keyFetch,
  'usync/get/usync': usync,
  'abt/get/props': () => [{ tag: 'props', attrs: { protocol: '1' } }],
  'blocklist/get/': () => [{ tag: 'list', attrs: {} }],
  'privacy/get/privacy': () => [
    {
      tag: 'privacy',
      attrs: {},
      content: ['readreceipts', 'last', 'online', 'profile', 'status', 'groupadd', 'calladd'].map(name => ({
        tag: 'category',
        attrs: { name, value: name === 'readreceipts' ? 'all' : 'contacts' },
      })),
    },
  ],
  'privacy/set/tokens': () => [{ tag: 'tokens', attrs: {} }],
  ...groupIqHandlers,
}

export const iqKey = (iq: BinaryNode): string => {
  const first = Array.isArray(iq.content) ? iq.content[0]?.tag : undefined
  return `${iq.attrs.xmlns ?? ''}/${iq.attrs.type ?? ''}/${first ?? ''}`
}

/** Answers one client iq (type get/set). Returns the key it was routed on. */
export const routeIq = (world: World, conn: FakeConnection, iq: BinaryNode): string => {
  const key = iqKey(iq)
  const child = Array.isArray(iq.content) ? iq.content[0] : undefined
  const handler = handlers[key]
  if (!handler && !['passive/set/active', 'w:p/get/ping'].includes(key)) world.unhandled.push(key)
  const content = handler ? handler(world, conn, iq, child) : undefined
  const reply: BinaryNode = { tag: 'iq', attrs: { from: 's.whatsapp.net', type: 'result', id: iq.attrs.id ?? '' } }
  if (content) reply.content = content
  conn.send(reply)
  return key
}
