// The MultipartUpload against an in-memory transport and store: Content-MD5 on every part,
// the file's SHA-256, resume (size and ETag), cancel, size limit, retries, BadDigest.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { MultipartUpload } from '../src/multipart.js'
import { digestFile } from '../src/digest.js'
import { UploadError } from '../src/retry.js'
import { MiB } from '../src/plan.js'

class MemoryStore {
  constructor () { this.items = new Map() }
  load (file) { return this.items.get(file.name) || null }
  save (file, state) { this.items.set(file.name, state) }
  clear (file) { this.items.delete(file.name) }
}

const md5Of = async (blob, encoding = 'hex') =>
  createHash('md5').update(new Uint8Array(await blob.arrayBuffer())).digest(encoding)

class MemoryTransport {
  constructor () {
    this.parts = new Map() // number -> {size, etag}
    this.created = 0
    this.aborted = 0
    this.completed = null
    this.signed = new Map() // number -> the Content-MD5 its URL was made for
  }

  async begin (file, saved) {
    if (!saved) this.created += 1
    return { key: 'p/f', uploadId: saved?.uploadId || `u${this.created}`, partSize: 5 * MiB, concurrency: 3 }
  }

  async partRequest (n, md5s) {
    assert.ok(md5s.has(n), `part ${n} asked to be signed before it was hashed`)
    this.signed.set(n, md5s.get(n))
    return { url: `part:${n}`, headers: { 'Content-MD5': md5s.get(n) } }
  }

  async refresh () {}
  async listParts () {
    return [...this.parts].map(([n, { size, etag }]) => ({ part_number: n, etag, size }))
  }

  async complete (parts) { this.completed = parts }
  async abort () { this.aborted += 1 }
}

const bytesOf = new Map()
const file = (size) => {
  if (!bytesOf.has(size)) bytesOf.set(size, randomBytes(size))
  return new File([bytesOf.get(size)], 'big.bin', { lastModified: 1 })
}
const inline = (blob, plan, onPart) => ({ promise: digestFile(blob, plan, { onPart }), stop () {} })

// A store that checks Content-MD5, as S3 and Ceph RGW do; `refuse(n, tries)` makes it
// answer BadDigest, as when the bytes changed on the way.
function putInto (transport, { failEvery = 0, sent = [], refuse = () => false } = {}) {
  let calls = 0
  const tries = new Map()
  return async ({ url, headers }, blob, { onProgress }) => {
    const md5 = headers['Content-MD5']
    calls += 1
    const n = Number(url.split(':')[1])
    tries.set(n, (tries.get(n) || 0) + 1)
    if (failEvery && calls % failEvery === 0) throw new UploadError('503', { status: 503 })
    assert.equal(md5, transport.signed.get(n), 'the request was signed for another MD5')
    if (refuse(n, tries.get(n)) || md5 !== await md5Of(blob, 'base64')) {
      throw new UploadError('S3 answered 400 BadDigest: The Content-MD5 you specified did not match what we received.', { status: 400, code: 'BadDigest' })
    }
    onProgress(blob.size)
    const etag = `"${await md5Of(blob)}"`
    transport.parts.set(n, { size: blob.size, etag })
    sent.push(n)
    return etag
  }
}

const options = (transport, extra = {}) => ({ transport, store: new MemoryStore(), hash: inline, retry: { wait: async () => {} }, ...extra })

test('uploads every part with its Content-MD5 and gives the file\'s SHA-256', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  const up = new MultipartUpload(options(transport, { store, put: putInto(transport) }))
  const result = await up.upload(file(23 * MiB))
  assert.equal(result.key, 'p/f')
  assert.equal(result.sha256, createHash('sha256').update(bytesOf.get(23 * MiB)).digest('hex'))
  assert.deepEqual(transport.completed.map(p => p.part_number), [1, 2, 3, 4, 5])
  assert.equal(store.load(file(23 * MiB)), null)
})

test('failed parts are retried and the upload completes', async () => {
  const transport = new MemoryTransport()
  const up = new MultipartUpload(options(transport, { put: putInto(transport, { failEvery: 3 }) }))
  await up.upload(file(40 * MiB))
  assert.equal(transport.completed.length, 8)
  assert.ok(up.retries >= 2)
})

test('a part refused with BadDigest is read and sent again', async () => {
  const transport = new MemoryTransport()
  const retried = []
  const put = putInto(transport, { refuse: (n, tries) => n === 2 && tries <= 2 })
  const up = new MultipartUpload(options(transport, { put, onRetry: (error, n) => retried.push([n, error.code]) }))
  await up.upload(file(23 * MiB))
  assert.deepEqual(retried, [[2, 'BadDigest'], [2, 'BadDigest']])
  assert.equal(transport.completed.length, 5)
})

test('a part refused every time stops the upload: the file changed on disk', async () => {
  const transport = new MemoryTransport()
  const put = putInto(transport, { refuse: (n) => n === 3 })
  const up = new MultipartUpload(options(transport, { put }))
  await assert.rejects(up.upload(file(23 * MiB)),
    /^UploadError: part 3 was refused 6 times .*BadDigest.*the file changed on disk or the disk is failing/)
  assert.equal(transport.completed, null)
})

test('a saved upload resumes and sends only the missing parts', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  const f = file(23 * MiB)
  store.save(f, { key: 'p/f', uploadId: 'u-old', partSize: 5 * MiB, partCount: 5, concurrency: 3 })
  for (const n of [1, 2, 4]) {
    transport.parts.set(n, { size: 5 * MiB, etag: `"${await md5Of(f.slice((n - 1) * 5 * MiB, n * 5 * MiB))}"` })
  }
  const sent = []
  const up = new MultipartUpload(options(transport, { store, put: putInto(transport, { sent }) }))
  const result = await up.upload(f)
  assert.deepEqual(sent.sort(), [3, 5])
  assert.equal(transport.created, 0)
  assert.deepEqual(transport.completed.map(p => p.part_number), [1, 2, 3, 4, 5])
  // The whole file's SHA-256 covers the parts S3 already had.
  assert.equal(result.sha256, createHash('sha256').update(bytesOf.get(23 * MiB)).digest('hex'))
})

test('on resume a stored part whose ETag is not the local bytes\' MD5 is sent again', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  const f = file(23 * MiB)
  store.save(f, { key: 'p/f', uploadId: 'u-old', partSize: 5 * MiB, partCount: 5, concurrency: 3 })
  transport.parts.set(1, { size: 5 * MiB, etag: `"${await md5Of(f.slice(0, 5 * MiB))}"` })
  transport.parts.set(2, { size: 5 * MiB, etag: '"0123456789abcdef0123456789abcdef"' })
  const sent = []
  const up = new MultipartUpload(options(transport, { store, put: putInto(transport, { sent }) }))
  await up.upload(f)
  assert.deepEqual(sent.sort(), [2, 3, 4, 5])
  assert.equal(transport.completed[1].etag, `"${await md5Of(f.slice(5 * MiB, 10 * MiB))}"`)
})

test('a saved upload that S3 no longer has starts afresh', async () => {
  const transport = new MemoryTransport()
  transport.listParts = async () => { throw new UploadError('NoSuchUpload', { status: 404, code: 'NoSuchUpload' }) }
  const store = new MemoryStore()
  store.save(file(23 * MiB), { key: 'p/f', uploadId: 'gone', partSize: 5 * MiB, partCount: 5 })
  const up = new MultipartUpload(options(transport, { store, put: putInto(transport) }))
  await up.upload(file(23 * MiB))
  assert.equal(transport.created, 1)
})

test('a file over max size is refused before anything is sent', async () => {
  const transport = new MemoryTransport()
  const up = new MultipartUpload(options(transport, { maxSize: 10 * MiB, put: putInto(transport) }))
  await assert.rejects(up.upload(file(10 * MiB + 1)), /largest file this site accepts is 10.0 MiB/)
  assert.equal(transport.created, 0)
})

test('a file that cannot be read stops the upload with the hasher\'s reason', async () => {
  const transport = new MemoryTransport()
  const unreadable = () => ({ promise: Promise.reject(new UploadError('big.bin can no longer be read')), stop () {} })
  const up = new MultipartUpload(options(transport, { hash: unreadable, put: putInto(transport) }))
  await assert.rejects(up.upload(file(23 * MiB)), /can no longer be read/)
  assert.equal(transport.completed, null)
})

test('cancel stops sending and aborts the multipart upload', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  let up = null
  const put = async ({ url }, blob, { signal }) => {
    if (url === 'part:2') await up.cancel()
    if (signal.aborted) throw signal.reason
    return '"x"'
  }
  up = new MultipartUpload(options(transport, { store, put }))
  await assert.rejects(up.upload(file(50 * MiB)), { name: 'AbortError' })
  assert.equal(transport.aborted, 1)
  assert.equal(transport.completed, null)
  assert.equal(store.load(file(50 * MiB)), null)
})

test('cancel while the upload is being started aborts it once started and keeps no record', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  let up = null
  const begin = transport.begin.bind(transport)
  transport.begin = async (f, saved) => {
    const cancelled = up.cancel() // nothing to abort yet: the upload has no id
    const session = await begin(f, saved)
    await cancelled
    return session
  }
  up = new MultipartUpload(options(transport, { store, put: async () => { throw new Error('a part was sent') } }))
  await assert.rejects(up.upload(file(12 * MiB)), { name: 'AbortError' })
  assert.equal(transport.created, 1)
  assert.equal(transport.aborted, 2, 'aborted by cancel (nothing yet) and once the upload was made')
  assert.equal(store.load(file(12 * MiB)), null, 'a record would resume a cancelled upload')
})

test('a file its transport sends in one PUT keeps no record and completes nothing', async () => {
  const transport = new MemoryTransport()
  transport.begin = async () => ({ key: 'p/f', single: true, partSize: 5 * MiB, concurrency: 3 })
  const store = new MemoryStore()
  let saved = 'unset'
  const put = putInto(transport)
  const result = await new MultipartUpload(options(transport, {
    store: Object.assign(store, { save: (f, s) => { saved = s } }),
    put
  })).upload(file(1000))
  assert.equal(saved, 'unset')
  assert.deepEqual([...transport.parts.keys()], [1])
  assert.equal(result.sha256, createHash('sha256').update(bytesOf.get(1000)).digest('hex'))
})
