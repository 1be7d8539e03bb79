// Group commit for one session: Baileys runs set() for different key types concurrently, and saveCreds
// beside them. Every batch queued while one write is in flight is merged into the next write, so there
// is never more than one write in flight per session and N concurrent calls cost one round trip.
import type { WriteBatch } from './backend.js'
import { mergeBatches } from './memory.js'

interface Waiter {
  batch: WriteBatch
  resolve: () => void
  reject: (err: unknown) => void
}

export function createGroupWriter(persist: (batch: WriteBatch) => Promise<void>) {
  let queue: Waiter[] = []
  // A group whose write failed: its changes are already in memory, so they ride with the next write.
  let carry: WriteBatch | null = null
  let running: Promise<void> | null = null

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const group = queue
      queue = []
      const batches = group.map((w) => w.batch)
      const merged = mergeBatches(carry ? [carry, ...batches] : batches)
      try {
        await persist(merged)
        carry = null
      } catch (err) {
        carry = merged
        for (const w of group) w.reject(err)
        continue
      }
      for (const w of group) w.resolve()
    }
  }

  function kick(): void {
    if (running) return
    running = drain().finally(() => {
      running = null
      if (queue.length > 0) kick()
    })
  }

  return {
    /** Resolves once the batch (merged with whatever queued beside it) is durable. */
    submit(batch: WriteBatch): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, resolve, reject })
        kick()
      })
    },
    /** Waits until nothing is queued or in flight. Never rejects. */
    async idle(): Promise<void> {
      while (running) await running.catch(() => {})
    },
    /** Changes that failed to persist and have not been retried yet. */
    get unpersisted(): WriteBatch | null {
      return carry
    },
    /** Runs fn while no write is in flight (catch-up, replace): queued batches wait for it. */
    async exclusive<T>(fn: () => Promise<T>): Promise<T> {
      for (;;) {
        await this.idle()
        if (!running) break
      }
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      running = gate
      try {
        return await fn()
      } finally {
        running = null
        release()
        if (queue.length > 0) kick()
      }
    },
  }
}

export type GroupWriter = ReturnType<typeof createGroupWriter>
