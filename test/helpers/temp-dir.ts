// A fresh folder under the OS temp dir, removed at teardown. Not tap's t.testdir(): that one lives
// inside the checkout, which an unprivileged user (the Docker entrypoint test) may not be able to read.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Teardown } from './teardown.js'

export async function tempDir(t: Teardown, prefix = 'wa-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}
