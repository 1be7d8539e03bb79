// Event ids: `evt_` + 26 characters of Crockford base32, ULID-like: 48 bits of milliseconds (so ids
// sort by creation time) then 80 random bits (so two instances never collide).
import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const EVENT_ID_PATTERN = '^evt_[0-9A-HJKMNP-TV-Z]{26}$'

export function newEventId(nowMs: number = Date.now(), random: Buffer = randomBytes(10)): string {
  let time = ''
  let t = Math.max(0, Math.floor(nowMs))
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time
    t = Math.floor(t / 32)
  }
  // 80 random bits -> 16 characters of 5 bits each.
  let rand = ''
  let acc = 0
  let bits = 0
  for (const byte of random.subarray(0, 10)) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      rand += ALPHABET[(acc >> bits) & 31]
    }
    acc &= (1 << bits) - 1
  }
  return `evt_${time}${rand}`
}
