// The media of a send: base64 decoding, content checked on the bytes, the size limit while spooling.
import t from 'tap'
import { Readable } from 'node:stream'
import { readFile, stat } from 'node:fs/promises'
import { decodeBase64 } from '../../src/messages/media/input.js'
import { checkMediaType } from '../../src/messages/media/sniff.js'
import { spool } from '../../src/messages/media/spool.js'
import { MessageError } from '../../src/messages/errors.js'
import { html, mp4, oggOpus, pdf, png, webp } from '../helpers/media-fixtures.js'

const code = (err: unknown) => (err instanceof MessageError ? err.code : String(err))

t.test('base64: standard and URL-safe, padded or not; anything else INVALID_BASE64', async (t) => {
  const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x01, 0x02])
  t.same(decodeBase64(bytes.toString('base64'), 100), bytes)
  t.same(decodeBase64(bytes.toString('base64url'), 100), bytes)
  t.same(decodeBase64(bytes.toString('base64').replace(/=+$/, ''), 100), bytes)
  t.same(decodeBase64(`${bytes.toString('base64').slice(0, 4)}\n${bytes.toString('base64').slice(4)}`, 100), bytes, 'line breaks are fine')
  for (const bad of ['not base64!', 'data:image/png;base64,AAAA', 'AAAAA', 'AA=A', '====']) {
    t.throws(() => decodeBase64(bad, 100), { code: 'INVALID_BASE64' }, JSON.stringify(bad))
  }
  for (const empty of ['', ' \n ']) {
    t.throws(() => decodeBase64(empty, 100), { code: 'INVALID_BASE64', message: 'media.base64 is empty: put the file in it, base64-encoded.' }, `empty: ${JSON.stringify(empty)}`)
  }
  t.throws(() => decodeBase64(Buffer.alloc(101).toString('base64'), 100), { code: 'MEDIA_TOO_LARGE' })
  t.same(decodeBase64(Buffer.alloc(100).toString('base64'), 100).length, 100, 'exactly the limit is fine')
})

t.test('content type from the bytes, per message type', async (t) => {
  t.equal(await checkMediaType('image', png()), 'image/png')
  t.equal(await checkMediaType('image', png(), 'image/png'), 'image/png')
  t.equal(await checkMediaType('video', mp4()), 'video/mp4')
  t.equal(await checkMediaType('audio', oggOpus()), 'audio/ogg')
  t.equal(await checkMediaType('voice', oggOpus()), 'audio/ogg; codecs=opus')
  t.equal(await checkMediaType('sticker', webp()), 'image/webp')
  t.equal(await checkMediaType('document', pdf()), 'application/pdf')
  t.equal(await checkMediaType('document', html()), 'application/octet-stream', 'a document may be anything')
  t.equal(await checkMediaType('document', html(), 'text/html'), 'text/html', 'as declared')
  for (const [type, bytes, declared] of [
    ['image', html(), undefined], ['image', mp4(), undefined], ['image', png(), 'image/jpeg'], ['sticker', png(), undefined],
    ['voice', mp4(), undefined], ['video', png(), undefined], ['image', Buffer.alloc(0), undefined],
  ] as const) {
    const err = await checkMediaType(type, bytes, declared).catch((e: unknown) => e)
    t.equal(code(err), 'MEDIA_TYPE_MISMATCH', `${type} from ${bytes.subarray(0, 4).toString('hex')} (declared ${declared})`)
  }
})

t.test('spool: streams to a private file, counts, hashes, stops at the limit', async (t) => {
  const data = Buffer.concat([png(), Buffer.alloc(10_000, 7)])
  const file = await spool(Readable.from([data.subarray(0, 100), data.subarray(100)]), data.length)
  t.same(await readFile(file.path), data)
  t.equal(file.size, data.length)
  t.equal((await stat(file.path)).mode & 0o777, 0o600)
  t.same(file.head, data.subarray(0, 4100))
  await file.cleanup()
  await t.rejects(stat(file.path), 'removed')
  const err = await spool(Readable.from([data]), data.length - 1).catch((e: unknown) => e)
  t.equal(code(err), 'MEDIA_TOO_LARGE')
})
