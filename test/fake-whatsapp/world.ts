// The fake's state: accounts (each with its fake phone and at most one paired companion),
// contacts, and what it received. Shared by the connection handlers and the control API.
import { EventEmitter } from 'node:events'
import { Curve, jidDecode, type BinaryNode, type proto } from '@whiskeysockets/baileys'
import type { KeyPair } from './certs.js'
import { FakeDevice, type PublicBundle } from './signal.js'
import type { Group } from './groups.js'

/** What a companion uploaded with `encrypt/set/registration`. */
export interface UploadedBundle {
  registrationId: number
  identity: Buffer
  signedPreKey: { keyId: number; public: Buffer; signature: Buffer }
  preKeys: Map<number, Buffer>
}

export interface Companion {
  deviceId: number
  /** creds.noiseKey.public: how a login is authenticated. */
  noiseKey: Buffer
  identityKey: Buffer
  bundle?: UploadedBundle
  /** Contacts (pn user) whose LID this companion already got, for lidOnFirstLookupOnly. */
  lidsGiven: Set<string>
}

export interface Account {
  pn: string
  lid: string
  name?: string
  /** ADV account key: signs companion identities; also the phone's Signal identity. */
  adv: KeyPair
  phone: FakeDevice
  companion?: Companion
  nextDeviceId: number
  connections: Set<LiveConnection>
  maxConcurrent: number
  /** Stanzas (messages, receipts) sent while no connection was live, delivered at the next login (backlog.ts). */
  backlog: BinaryNode[]
  /** Messages delivered live but not receipted yet, with the connection they went to (redeliverUnreceipted). */
  unreceipted: Map<string, { node: BinaryNode; connId: number }>
}

/** What the world needs to know of a logged-in connection (see connection.ts). */
export interface LiveConnection {
  readonly id: number
  close(): void
}

export interface Contact {
  pn: string
  lid: string
  name: string
  device: FakeDevice
}

export interface ReceivedMessage {
  /** Sender companion, e.g. `15550001111:7@s.whatsapp.net`. */
  from?: string
  /** Recipient contact, `<pn>@s.whatsapp.net`, or the group, `<id>@g.us`. */
  to: string
  /** In a group: the member (`<pn>@s.whatsapp.net`) who decrypted this copy; one entry per member. */
  member?: string
  text: string
  type: 'pkmsg' | 'msg' | 'skmsg'
  id: string
  /** The whole decrypted message (media, reactions, edits...). */
  message?: proto.IMessage
}

export interface Receipt {
  id: string
  to: string
  type: string
  from?: string
}

export interface WorldOptions {
  lidOnFirstLookupOnly: boolean
  /** On a second login of the same account: 'replace' (real WhatsApp: 440 to the older) or 'allow'. */
  onSecondLogin: 'replace' | 'allow'
  /** Messages delivered but never receipted (nacked, or the client went away) come again at the next login. */
  redeliverUnreceipted: boolean
}

/** Digits of a phone number or JID user: '+1 555-000' and '1555000@s.whatsapp.net' -> '1555000'. */
export const userOf = (pnOrJid: string): string => {
  const decoded = pnOrJid.includes('@') ? jidDecode(pnOrJid)?.user : undefined
  return (decoded ?? pnOrJid).replace(/[^0-9]/g, '')
}

export class World extends EventEmitter {
  readonly accounts = new Map<string, Account>()
  readonly contacts = new Map<string, Contact>()
  /** The same accounts and contacts by LID user: lookups stay O(1) with hundreds of accounts. */
  readonly #accountsByLid = new Map<string, Account>()
  readonly #contactsByLid = new Map<string, Contact>()
  /** Groups by JID (`<id>@g.us`), see groups.ts. */
  readonly groups = new Map<string, Group>()
  readonly received: ReceivedMessage[] = []
  /** Copies of sent messages decrypted by the fake phone (deviceSentMessage). */
  readonly deviceSent: ReceivedMessage[] = []
  readonly receipts: Receipt[] = []
  /** Acks the companion sent for stanzas it got; `error` set on a nack (it refused a message). */
  readonly acks: Array<{ id: string; class: string; error?: string }> = []
  readonly decryptErrors: Array<{ id: string; to: string; error: string }> = []
  /** Logins (handshakes with a username) per account phone number, successful or not. */
  readonly loginAttempts = new Map<string, number>()
  /** Every stanza tag+xmlns a client sent that the fake had no specific handler for. */
  readonly unhandled: string[] = []
  handshakes = 0
  /** `<conflict type="replaced"/>` stream errors sent (each one is a 440 at the client). */
  conflictsSent = 0
  /** How the server answers a companion's message: ack it (default), refuse it (error 479), or stay silent. */
  messageAcks: 'ack' | 'error' | 'none' = 'ack'

  constructor(readonly options: WorldOptions) {
    super()
    this.setMaxListeners(0)
  }

  changed(): void {
    this.emit('change')
  }

  account(pn: string, lid?: string): Account {
    const user = userOf(pn)
    let acc = this.accounts.get(user)
    if (!acc) {
      const adv = Curve.generateKeyPair()
      acc = {
        pn: user,
        lid: lid ? userOf(lid) : `1${user.padStart(14, '0')}`,
        adv,
        phone: new FakeDevice(adv),
        nextDeviceId: 7,
        connections: new Set(),
        maxConcurrent: 0,
        backlog: [],
        unreceipted: new Map(),
      }
      this.accounts.set(user, acc)
      this.#accountsByLid.set(acc.lid, acc)
    } else if (lid && userOf(lid) !== acc.lid) {
      throw new Error(`account ${user} already has LID ${acc.lid}`)
    }
    return acc
  }

  findAccount(pn?: string): Account | undefined {
    if (pn) return this.accounts.get(userOf(pn))
    const all = [...this.accounts.values()]
    return all.find(a => a.companion && a.connections.size > 0) ?? all.find(a => a.companion) ?? all[0]
  }

  addContact(pn: string, lid: string, name?: string): Contact {
    const user = userOf(pn)
    const existing = this.contacts.get(user)
    if (existing) return existing
    const c: Contact = { pn: user, lid: userOf(lid), name: name ?? `Contact ${user}`, device: new FakeDevice() }
    this.contacts.set(user, c)
    this.#contactsByLid.set(c.lid, c)
    return c
  }

  contactByUser(user: string): Contact | undefined {
    return this.contacts.get(user) ?? this.#contactsByLid.get(user)
  }

  accountByUser(user: string): Account | undefined {
    return this.accounts.get(user) ?? this.#accountsByLid.get(user)
  }

  /** Hands out one uploaded one-time pre-key (lowest id), like the server does on a key fetch. */
  takeUploadedBundle(companion: Companion): PublicBundle | undefined {
    const b = companion.bundle
    if (!b) return undefined
    const first = b.preKeys.keys().next()
    let preKey: PublicBundle['preKey']
    if (!first.done) {
      const pub = b.preKeys.get(first.value)
      b.preKeys.delete(first.value)
      if (pub) preKey = { keyId: first.value, public: pub }
    }
    return { registrationId: b.registrationId, identity: b.identity, signedPreKey: b.signedPreKey, preKey }
  }
}
