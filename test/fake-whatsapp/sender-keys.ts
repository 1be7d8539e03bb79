// A fake device's group sender keys, with the same group cipher Baileys uses (its Signal/Group code,
// a port of libsignal's): the device's own sender key per group (to send skmsg and the sender key
// distribution message that goes with it), and the keys other senders distributed to it.
import { proto, encodeWAMessage, unpadRandomMax16 } from '@whiskeysockets/baileys'
import {
  GroupCipher,
  GroupSessionBuilder,
  SenderKeyDistributionMessage,
  SenderKeyName,
  SenderKeyRecord,
} from '@whiskeysockets/baileys/lib/Signal/Group/index.js'

/** Who holds a sender key: a Signal address (`user`, device). */
export interface SenderAddress {
  id: string
  deviceId: number
}

/** The device's own address in its own sender key names (any stable value works: names are local). */
const SELF: SenderAddress = { id: 'self', deviceId: 0 }

export class SenderKeys {
  private readonly records = new Map<string, SenderKeyRecord>()
  private readonly store = {
    loadSenderKey: async (name: SenderKeyName) => this.records.get(name.toString()) ?? new SenderKeyRecord(),
    storeSenderKey: async (name: SenderKeyName, record: SenderKeyRecord) => {
      this.records.set(name.toString(), record)
    },
  }

  /** The serialized SenderKeyDistributionMessage of this device's own key for `group` (made on first use). */
  async distribution(group: string): Promise<Uint8Array> {
    const skdm = await new GroupSessionBuilder(this.store).create(new SenderKeyName(group, SELF))
    return skdm.serialize()
  }

  /** Encrypts a message with this device's own sender key for `group` (an skmsg). */
  async encrypt(group: string, message: proto.IMessage): Promise<Buffer> {
    await this.distribution(group)
    return Buffer.from(await new GroupCipher(this.store, new SenderKeyName(group, SELF)).encrypt(encodeWAMessage(message)))
  }

  /** Stores the sender key another device (`sender`) distributed for `group`. */
  async process(group: string, sender: SenderAddress, skdm: Uint8Array): Promise<void> {
    const message = new SenderKeyDistributionMessage(null, null, null, null, skdm)
    await new GroupSessionBuilder(this.store).process(new SenderKeyName(group, sender), message)
  }

  /** Decrypts an skmsg `sender` sent to `group`; throws without that sender's key. */
  async decrypt(group: string, sender: SenderAddress, ciphertext: Uint8Array): Promise<proto.Message> {
    const padded = await new GroupCipher(this.store, new SenderKeyName(group, sender)).decrypt(ciphertext)
    return proto.Message.decode(unpadRandomMax16(padded))
  }
}
