// Append-only JSON-lines files, fsynced before an append resolves: the file outbox and the spool in
// front of the Postgres outbox. Opening a file cuts off a torn last line (kill -9 in the middle of a
// write: no newline at the end), since the append that wrote it never resolved.
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { FILE_MODE, isNotFound } from '../../keystore/file/fsio.js'

/** Parses the file's complete lines; returns them and the length of the part that ends with a newline. */
function parse<T>(text: string): { lines: T[]; goodLength: number } {
  const end = text.lastIndexOf('\n') + 1
  const lines: T[] = []
  for (const raw of text.slice(0, end).split('\n')) {
    if (!raw) continue
    try {
      lines.push(JSON.parse(raw) as T)
    } catch {
      // A damaged line inside the file (not written by this code): skipped, the rest is kept.
    }
  }
  return { lines, goodLength: Buffer.byteLength(text.slice(0, end)) }
}

/** Opens the file for appending (creating it, 0600) and reads its complete lines. */
export async function openLines<T>(path: string): Promise<{ handle: FileHandle; lines: T[] }> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => (isNotFound(err) ? '' : Promise.reject(err)))
  const { lines, goodLength } = parse<T>(text)
  const handle = await open(path, 'a+', FILE_MODE)
  if (goodLength < Buffer.byteLength(text)) {
    await handle.truncate(goodLength)
    await handle.sync()
  }
  return { handle, lines }
}

/** One JSON line per value. */
export const toLines = (values: unknown[]): string => values.map((v) => `${JSON.stringify(v)}\n`).join('')

/** Appends one line per value and fsyncs: durable once it resolves. */
export async function appendLines(handle: FileHandle, values: unknown[]): Promise<void> {
  await handle.write(toLines(values))
  await handle.sync()
}
