// The fake media server keeps what it was uploaded (all of it by default, the last N when bounded) and
// serves what it keeps.
import t from 'tap'
import { request } from 'node:https'
import { MEDIA_HOST, startFakeMedia, type FakeMedia } from './media.js'
import { MEDIA_TLS_CERT } from './media-tls.js'

function call(media: FakeMedia, method: 'GET' | 'POST', path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: media.port, servername: MEDIA_HOST, ca: MEDIA_TLS_CERT, method, path }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function upload(media: FakeMedia, bytes: Buffer): Promise<string> {
  const res = await call(media, 'POST', '/mms/image/abc?auth=x', bytes)
  return (JSON.parse(res.body.toString()) as { direct_path: string }).direct_path
}

t.test('by default every upload is kept and served', async (t) => {
  const media = await startFakeMedia()
  t.teardown(() => media.close())
  const paths = [await upload(media, Buffer.from('one')), await upload(media, Buffer.from('two')), await upload(media, Buffer.from('three'))]
  t.equal(media.uploadCount(), 3)
  t.same(media.uploads.map((u) => u.bytes.toString()), ['one', 'two', 'three'])
  t.same((await call(media, 'GET', paths[0])).body.toString(), 'one')
})

t.test('keepUploads: the oldest uploads are dropped, the count goes on', async (t) => {
  const media = await startFakeMedia({ keepUploads: 2 })
  t.teardown(() => media.close())
  const paths = [await upload(media, Buffer.from('one')), await upload(media, Buffer.from('two')), await upload(media, Buffer.from('three'))]
  t.equal(media.uploadCount(), 3)
  t.same(media.uploads.map((u) => u.bytes.toString()), ['two', 'three'])
  t.equal((await call(media, 'GET', paths[0])).status, 404, 'the dropped file is no longer served')
  const last = await call(media, 'GET', paths[2])
  t.equal(last.status, 200)
  t.equal(last.body.toString(), 'three')
})

t.test('refuseUploads: uploads are answered 500 and nothing is kept, until it is turned off', async (t) => {
  const media = await startFakeMedia()
  t.teardown(() => media.close())
  media.refuseUploads(true)
  const refused = await call(media, 'POST', '/mms/image/abc?auth=x', Buffer.from('one'))
  t.equal(refused.status, 500)
  t.notMatch(refused.body.toString(), /direct_path/)
  t.equal(media.uploadCount(), 0)
  media.refuseUploads(false)
  await upload(media, Buffer.from('two'))
  t.same(media.uploads.map((u) => u.bytes.toString()), ['two'])
})
