import t from 'tap'
import { backoffDelay } from '../../src/lib/backoff.js'

const opts = { baseMs: 1000, maxMs: 60_000 }

t.test('grows exponentially between half the cap and the cap', async (t) => {
  t.equal(backoffDelay(0, opts, () => 0), 500)
  t.equal(backoffDelay(0, opts, () => 0.999999), 1000)
  t.equal(backoffDelay(1, opts, () => 0), 1000)
  t.equal(backoffDelay(3, opts, () => 0), 4000)
  t.equal(backoffDelay(3, opts, () => 0.5), 6000)
})

t.test('is bounded by maxMs however many attempts', async (t) => {
  t.equal(backoffDelay(6, opts, () => 0.999999), 60_000)
  t.equal(backoffDelay(1000, opts, () => 0.999999), 60_000)
  t.equal(backoffDelay(Number.MAX_SAFE_INTEGER, opts, () => 0), 30_000)
})

t.test('never below half the cap (no tight loop), always within bounds with real randomness', async (t) => {
  for (let attempt = 0; attempt < 40; attempt++) {
    const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** attempt)
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(attempt, opts)
      if (d < cap / 2 || d > cap) t.fail(`attempt ${attempt}: ${d} outside [${cap / 2}, ${cap}]`)
    }
  }
  t.pass('all within bounds')
})

t.test('negative or fractional attempts count as the first', async (t) => {
  t.equal(backoffDelay(-3, opts, () => 0), 500)
  t.equal(backoffDelay(0.7, opts, () => 0), 500)
})
