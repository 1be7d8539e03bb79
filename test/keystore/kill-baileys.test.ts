// The same SIGKILL treatment applied to Baileys' own useMultiFileAuthState: its writeFile truncates
// creds.json before rewriting it, so a kill in between leaves an empty file, and the next start
// silently makes new creds (a new identity: the account is logged out). Each kill hits that window
// with a probability of roughly 1 in 5 here, so the test kills up to 40 children, 4 at a time, and
// stops at the first loss (a run without any loss would have odds of about 0.8^40 = 1e-4).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { useMultiFileAuthState } from '@whiskeysockets/baileys'
import { spawnFixture } from './fixtures/spawn.js'
import { tempFolder } from './fixtures/tmp.js'

interface Outcome {
  lost: boolean
  bytes: number
  originalRegistrationId: number
  reloadedRegistrationId: number
}

async function killOnce(root: string, i: number): Promise<Outcome> {
  const dir = `${root}/baileys-${i}`
  const child = spawnFixture('./baileys-child.ts', [dir])
  await child.waitForAcks(20 + Math.floor(Math.random() * 150))
  child.proc.kill('SIGKILL')
  await child.exited
  const originalRegistrationId = Number(child.lines.find((l) => l.startsWith('ready '))?.slice(6))
  const text = await readFile(`${dir}/creds.json`, 'utf8')
  let saved = -1
  try {
    saved = (JSON.parse(text) as { nextPreKeyId: number }).nextPreKeyId
  } catch {
    // empty or partial: unreadable
  }
  const reloaded = await useMultiFileAuthState(dir)
  return {
    lost: saved < Math.max(...child.acks),
    bytes: text.length,
    originalRegistrationId,
    reloadedRegistrationId: reloaded.state.creds.registrationId,
  }
}

t.test("Baileys' useMultiFileAuthState loses acknowledged creds under SIGKILL", async (t) => {
  const { root } = await tempFolder(t)
  let loss: Outcome | undefined
  let kills = 0
  for (let wave = 0; wave < 10 && !loss; wave++) {
    const outcomes = await Promise.all([0, 1, 2, 3].map((j) => killOnce(root, wave * 4 + j)))
    kills += outcomes.length
    loss = outcomes.find((o) => o.lost)
  }
  t.ok(loss, `a kill left creds.json behind its acknowledged state (after ${kills} kills)`)
  if (loss) {
    t.equal(loss.bytes, 0, 'creds.json was left empty (truncated, not yet rewritten)')
    t.not(loss.reloadedRegistrationId, loss.originalRegistrationId, 'reopening silently made a new identity')
  }
})
