// The Baileys key traffic the keystore bench replays: recorded once (seeded, with the shapes and sizes
// Baileys 7 uses, see the fake WhatsApp notes), then replayed call by call, identically, on every store.
//   pairing        one set of 812 pre-keys, then saveCreds
//   40% send 1:1   get session [2 devices], get tctoken, set session (2 ids)
//   25% inbound    get session, set session (1 id)
//   10% group send get sender-key-memory, get sender-key, set {sender-key, sender-key-memory}
//    8% pkmsg      get/set lid-mapping (pn + reverse), get/set identity-key, get/set session,
//                  get pre-key, set pre-key {id: null} (consumes one of the 812)
//    7% new member three sets of different types at once (they are concurrent in Baileys)
//    5% deletes    set session {2 ids: null}, set sender-key {id: null}
//    5% app state  get app-state-sync-key, get app-state-sync-version, set app-state-sync-version (~80 KB)
// Session records ~1.5 KB, sender keys ~600 B, identity keys 33 B, tctokens 24 B.
import { randomBytes } from 'node:crypto'

export type Call =
  | { op: 'get'; type: string; ids: string[] }
  | { op: 'set'; data: Record<string, Record<string, unknown>> }
  | { op: 'creds' }
  /** Calls Baileys makes at once (not awaited one by one). */
  | { op: 'parallel'; calls: Call[] }

export interface Trace {
  /** The untimed start: pairing and the state that exists before the measured traffic. */
  setup: Call[]
  /** One list of calls per concurrent stream (contacts and groups differ between streams). */
  streams: Call[][]
}

const CONTACTS = 24
const GROUPS = 4
const COLLECTIONS = ['critical_block', 'critical_unblock_low', 'regular', 'regular_high', 'regular_low']

function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0
    return seed / 2 ** 32
  }
}

const session = () => randomBytes(1400 + Math.floor(Math.random() * 200))
const senderKey = () => randomBytes(560 + Math.floor(Math.random() * 80))
const peer = (k: number, c: number) => `1555${String(k).padStart(3, '0')}${String(c).padStart(5, '0')}_1`
const group = (k: number, g: number) => `1203630${String(k).padStart(3, '0')}${String(g).padStart(5, '0')}@g.us`
const collection = (k: number) => (k < COLLECTIONS.length ? COLLECTIONS[k] : `${COLLECTIONS[k % COLLECTIONS.length]}~${k}`)

/** An LTHash state as Baileys stores it under app-state-sync-version (~80 KB once encoded). */
function appState(prev: Record<string, { valueMac: Buffer }> | null, version: number) {
  const indexValueMap: Record<string, { valueMac: Buffer }> = { ...prev }
  for (let i = 0; i < (prev ? 3 : 700); i++) indexValueMap[randomBytes(32).toString('base64')] = { valueMac: randomBytes(32) }
  return { version, hash: randomBytes(128), indexValueMap }
}

function setup(streams: number): Call[] {
  const preKeys: Record<string, unknown> = {}
  for (let i = 1; i <= 812; i++) preKeys[String(i)] = { private: randomBytes(32), public: randomBytes(32) }
  const warm: Record<string, Record<string, unknown>> = {
    session: {}, tctoken: {}, 'sender-key': {}, 'sender-key-memory': {}, 'app-state-sync-version': {},
    'app-state-sync-key': { AAAAAQ: { keyData: randomBytes(32), fingerprint: { rawId: 1, currentIndex: 1 }, timestamp: '1717000000' } },
  }
  for (let k = 0; k < streams; k++) {
    for (let c = 0; c < CONTACTS; c++) {
      warm.session[`${peer(k, c)}.0`] = session()
      warm.session[`${peer(k, c)}.7`] = session()
      warm.tctoken[`${peer(k, c)}@lid`] = { token: randomBytes(24), timestamp: '1717000000' }
    }
    for (let g = 0; g < GROUPS; g++) {
      warm['sender-key'][`${group(k, g)}::me::0`] = senderKey()
      warm['sender-key-memory'][group(k, g)] = {}
    }
    warm['app-state-sync-version'][collection(k)] = appState(null, 1)
  }
  return [{ op: 'set', data: { 'pre-key': preKeys } }, { op: 'creds' }, { op: 'creds' }, { op: 'set', data: warm }]
}

function stream(k: number, count: number, warm: Record<string, unknown>): Call[] {
  const rand = prng(1000 + k)
  const calls: Call[] = []
  const get = (type: string, ids: string[]) => calls.push({ op: 'get', type, ids })
  const set = (data: Record<string, Record<string, unknown>>) => calls.push({ op: 'set', data })
  let app = warm[collection(k)] as ReturnType<typeof appState>
  for (let n = 0; n < count; n++) {
    const r = rand()
    const p = peer(k, Math.floor(rand() * CONTACTS))
    const g = group(k, Math.floor(rand() * GROUPS))
    const fresh = `${k}x${n}` // a new contact, member or device
    if (r < 0.4) {
      get('session', [`${p}.0`, `${p}.7`])
      get('tctoken', [`${p}@lid`])
      set({ session: { [`${p}.0`]: session(), [`${p}.7`]: session() } })
    } else if (r < 0.65) {
      get('session', [`${p}.0`])
      set({ session: { [`${p}.0`]: session() } })
    } else if (r < 0.75) {
      get('sender-key-memory', [g])
      get('sender-key', [`${g}::me::0`])
      set({ 'sender-key': { [`${g}::me::0`]: senderKey() }, 'sender-key-memory': { [g]: { [`${p}:0@lid`]: true } } })
    } else if (r < 0.83) {
      const [pn, lid] = [`1666${fresh}`, `2000${fresh}`]
      get('lid-mapping', [pn])
      set({ 'lid-mapping': { [pn]: lid, [`${lid}_reverse`]: pn } })
      get('identity-key', [`${lid}_1.0`])
      set({ 'identity-key': { [`${lid}_1.0`]: randomBytes(33) } })
      get('session', [`${lid}_1.0`])
      set({ session: { [`${lid}_1.0`]: session() } })
      const preKey = String(k * 100 + (n % 100) + 1)
      get('pre-key', [preKey])
      set({ 'pre-key': { [preKey]: null } })
    } else if (r < 0.9) {
      calls.push({
        op: 'parallel',
        calls: [
          { op: 'set', data: { 'sender-key': { [`${g}::3000${fresh}::0`]: senderKey() } } },
          { op: 'set', data: { session: { [`3000${fresh}_1.0`]: session() } } },
          { op: 'set', data: { 'lid-mapping': { [`1777${fresh}`]: `3000${fresh}`, [`3000${fresh}_reverse`]: `1777${fresh}` } } },
        ],
      })
    } else if (r < 0.95) {
      const old = `${k}x${Math.floor(rand() * Math.max(1, n))}`
      set({ session: { [`3000${old}_1.0`]: null, [`2000${old}_1.0`]: null } })
      set({ 'sender-key': { [`${g}::3000${old}::0`]: null } })
    } else {
      get('app-state-sync-key', ['AAAAAQ'])
      get('app-state-sync-version', [collection(k)])
      app = appState(app.indexValueMap, app.version + 1)
      set({ 'app-state-sync-version': { [collection(k)]: app } })
    }
  }
  return calls
}

/** Records the traffic of `streams` concurrent chats, `ops` operations in all. */
export function recordTrace(options: { ops: number; streams: number }): Trace {
  const start = setup(options.streams)
  const warm = (start[3] as { data: Record<string, Record<string, unknown>> }).data['app-state-sync-version']
  const per = Math.ceil(options.ops / options.streams)
  return { setup: start, streams: Array.from({ length: options.streams }, (_, k) => stream(k, per, warm)) }
}
