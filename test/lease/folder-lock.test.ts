import t from 'tap'
import { spawn } from 'node:child_process'
import { readFile, utimes, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { acquireFolderLock, SessionFolderLockedError } from '../../src/lease/index.js'
import { tempDir } from '../helpers/temp-dir.js'
import type { Teardown } from '../helpers/teardown.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

const folder = (t: Teardown): Promise<string> => tempDir(t, 'wa-lock-')

/** A child process that takes the lock, prints "locked", and waits to be killed. */
async function childHoldingLock(t: { teardown(fn: () => unknown): void }, dir: string) {
  const code = `
    import { acquireFolderLock } from ${JSON.stringify(`${root}src/lease/folder-lock.ts`)}
    await acquireFolderLock(${JSON.stringify(dir)})
    console.log('locked')
    setInterval(() => {}, 1000)
  `
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', code], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => { if (b.toString().includes('locked')) resolve() })
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)))
  })
  return child
}

t.test('a second lock on the same folder fails with the holder pid; release frees it', async (t) => {
  const dir = await folder(t)
  const lock = await acquireFolderLock(dir)
  const content = JSON.parse(await readFile(join(dir, '.lock'), 'utf8'))
  t.match(content, { pid: process.pid, hostname: hostname() })
  t.equal(lock.owner.pid, process.pid)

  const err = await acquireFolderLock(dir).then(() => null, (e: unknown) => e)
  t.ok(err instanceof SessionFolderLockedError)
  t.match(err, { code: 'SESSION_FOLDER_LOCKED', holder: { pid: process.pid }, message: new RegExp(`pid ${process.pid}\\b`) })

  await lock.release()
  await lock.release()
  const again = await acquireFolderLock(dir)
  await again.release()
})

t.test('a lock held by another live process is refused; once it is killed -9 the lock is taken over', async (t) => {
  const dir = await folder(t)
  const child = await childHoldingLock(t, dir)
  const err = await acquireFolderLock(dir).then(() => null, (e: unknown) => e)
  t.match(err, { code: 'SESSION_FOLDER_LOCKED', holder: { pid: child.pid } })
  t.match((err as Error).message, `pid ${child.pid}`)

  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  const lock = await acquireFolderLock(dir)
  t.equal(JSON.parse(await readFile(join(dir, '.lock'), 'utf8')).pid, process.pid, 'stale lock (dead pid) taken over')
  await lock.release()
})

t.test('a reused pid (same pid, other start time) and a reboot make a lock stale', async (t) => {
  const dir = await folder(t)
  const path = join(dir, '.lock')
  const base = { pid: process.pid, hostname: hostname(), startedAt: new Date(0).toISOString() }
  await writeFile(path, JSON.stringify({ ...base, procStart: '1' }))
  const lock = await acquireFolderLock(dir)
  t.not(JSON.parse(await readFile(path, 'utf8')).startedAt, base.startedAt, 'pid reuse: taken over')
  await lock.release()

  await writeFile(path, JSON.stringify({ ...base, bootId: 'another-boot' }))
  const lock2 = await acquireFolderLock(dir)
  t.not(JSON.parse(await readFile(path, 'utf8')).bootId, 'another-boot', 'other boot: taken over')
  await lock2.release()
})

t.test('a lock from another host is stale only once its mtime stops being refreshed', async (t) => {
  const dir = await folder(t)
  const path = join(dir, '.lock')
  await writeFile(path, JSON.stringify({ pid: 1, hostname: 'other-host', startedAt: new Date().toISOString() }))
  await t.rejects(acquireFolderLock(dir, { staleAfterMs: 60_000 }), { code: 'SESSION_FOLDER_LOCKED', holder: { pid: 1, hostname: 'other-host' } })
  const old = new Date(Date.now() - 120_000)
  await utimes(path, old, old)
  const lock = await acquireFolderLock(dir, { staleAfterMs: 60_000 })
  t.equal(JSON.parse(await readFile(path, 'utf8')).hostname, hostname())
  await lock.release()
})

t.test('many acquirers racing for a stale lock: exactly one wins', async (t) => {
  const dir = await folder(t)
  const path = join(dir, '.lock')
  await writeFile(path, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: 'x', procStart: '1' }))
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireFolderLock(dir)))
  const won = results.filter((r) => r.status === 'fulfilled')
  t.equal(won.length, 1, 'one winner')
  for (const r of results) if (r.status === 'rejected') t.match(r.reason, { code: 'SESSION_FOLDER_LOCKED' })
  if (won[0]?.status === 'fulfilled') await won[0].value.release()
})

t.test('release does not delete a lock that is no longer ours', async (t) => {
  const dir = await folder(t)
  const path = join(dir, '.lock')
  const lock = await acquireFolderLock(dir)
  const theirs = JSON.stringify({ pid: 1, hostname: 'other-host', startedAt: 'now' })
  await writeFile(path, theirs)
  await lock.release()
  t.equal(await readFile(path, 'utf8'), theirs)
})
