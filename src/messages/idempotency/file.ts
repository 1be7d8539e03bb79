// Idempotency keys in local files (file mode): SESSION_PATH/.messages/idempotency/<scope>.json, created
// exclusively (two requests with one key cannot both claim it) and fsynced before the send starts.
import { join } from 'node:path'
import { createExclusive, ensureDir, readJson, removeFile, writeFileAtomic } from '../files.js'
import { readdirIfExists } from '../../lib/small-files.js'
import type { Sealer } from '../payload.js'
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, type Claim, type IdempotencyStore } from './types.js'

interface KeyFile {
  fingerprint: string
  messageId: string
  state: 'in_flight' | 'done'
  answer: string | null
  lockedUntil: number
  expiresAt: number
}

/** `now` is wall-clock time (the keys outlive the process), Date.now by default. */
export function createFileIdempotencyStore({ dir, sealer, now: wallNow = Date.now }: { dir: string; sealer: Sealer; now?: () => number }): IdempotencyStore {
  const base = join(dir, 'idempotency')
  const path = (scope: string) => join(base, `${scope}.json`)
  return {
    async claim(scope, _clientId, fingerprint, messageId): Promise<Claim> {
      await ensureDir(base)
      const now = wallNow()
      for (let attempt = 0; attempt < 3; attempt++) {
        const fresh: KeyFile = { fingerprint, messageId, state: 'in_flight', answer: null, lockedUntil: now + IDEMPOTENCY_LOCK_MS, expiresAt: now + IDEMPOTENCY_TTL_MS }
        if (await createExclusive(path(scope), JSON.stringify(fresh))) return { kind: 'new', messageId }
        const file = await readJson<KeyFile>(path(scope))
        if (!file) continue // removed meanwhile
        if (file.expiresAt < now) {
          await removeFile(path(scope))
          continue
        }
        if (file.fingerprint !== fingerprint) return { kind: 'mismatch' }
        if (file.state === 'done') return { kind: 'replay', answer: JSON.parse(sealer.open(file.answer ?? 'null')) }
        if (file.lockedUntil > now) return { kind: 'in_flight', messageId: file.messageId }
        await writeFileAtomic(path(scope), JSON.stringify({ ...file, lockedUntil: now + IDEMPOTENCY_LOCK_MS }))
        return { kind: 'takeover', messageId: file.messageId }
      }
      return { kind: 'in_flight' }
    },
    async complete({ scope }, answer) {
      const file = await readJson<KeyFile>(path(scope))
      if (!file) return
      await writeFileAtomic(path(scope), JSON.stringify({ ...file, state: 'done', answer: sealer.seal(JSON.stringify(answer)) }))
    },
    async release({ scope }) {
      await removeFile(path(scope))
    },
    async purge(now) {
      const names = await readdirIfExists(base)
      let removed = 0
      for (const name of names) {
        if (!name.endsWith('.json')) continue
        const file = await readJson<KeyFile>(join(base, name)).catch(() => null)
        if (file && file.expiresAt < now.getTime()) {
          await removeFile(join(base, name))
          removed++
        }
      }
      return removed
    },
  }
}
