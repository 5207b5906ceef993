// The MultipartUpload against an in-memory transport: resume, cancel, size limit, retries.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MultipartUpload } from '../src/multipart.js'
import { UploadError } from '../src/retry.js'
import { MiB } from '../src/plan.js'

class MemoryStore {
  constructor () { this.items = new Map() }
  load (file) { return this.items.get(file.name) || null }
  save (file, state) { this.items.set(file.name, state) }
  clear (file) { this.items.delete(file.name) }
}

class MemoryTransport {
  constructor () {
    this.parts = new Map()
    this.created = 0
    this.aborted = 0
    this.completed = null
  }

  async begin (file, saved) {
    if (!saved) this.created += 1
    return { key: 'p/f', uploadId: saved?.uploadId || `u${this.created}`, partSize: 5 * MiB, concurrency: 3 }
  }

  async partUrl (n) { return `part:${n}` }
  async refresh () {}
  async listParts () {
    return [...this.parts].map(([n, size]) => ({ part_number: n, etag: `"${n}"`, size }))
  }

  async complete (parts) { this.completed = parts }
  async abort () { this.aborted += 1 }
}

const file = (size) => ({ name: 'big.bin', size, lastModified: 1, type: '', slice: (a, b) => ({ size: b - a }) })

function putInto (transport, { failEvery = 0, sent = [] } = {}) {
  let calls = 0
  return async (url, blob, { onProgress }) => {
    calls += 1
    if (failEvery && calls % failEvery === 0) throw new UploadError('503', { status: 503 })
    const n = Number(url.split(':')[1])
    onProgress(blob.size)
    transport.parts.set(n, blob.size)
    sent.push(n)
    return `"${n}"`
  }
}

test('uploads every part and completes with them sorted', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  const up = new MultipartUpload({ transport, store, put: putInto(transport) })
  const result = await up.upload(file(23 * MiB))
  assert.equal(result.key, 'p/f')
  assert.deepEqual(transport.completed.map(p => p.part_number), [1, 2, 3, 4, 5])
  assert.equal(store.load(file(1)), null)
})

test('failed parts are retried and the upload completes', async () => {
  const transport = new MemoryTransport()
  const up = new MultipartUpload({ transport, store: new MemoryStore(), put: putInto(transport, { failEvery: 3 }), retry: { wait: async () => {} } })
  await up.upload(file(40 * MiB))
  assert.equal(transport.completed.length, 8)
  assert.ok(up.retries >= 2)
})

test('a saved upload resumes and sends only the missing parts', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  store.save(file(1), { key: 'p/f', uploadId: 'u-old', partSize: 5 * MiB, partCount: 5, concurrency: 3 })
  transport.parts.set(1, 5 * MiB).set(2, 5 * MiB).set(4, 5 * MiB)
  const sent = []
  const up = new MultipartUpload({ transport, store, put: putInto(transport, { sent }) })
  await up.upload(file(23 * MiB))
  assert.deepEqual(sent.sort(), [3, 5])
  assert.equal(transport.created, 0)
  assert.deepEqual(transport.completed.map(p => p.part_number), [1, 2, 3, 4, 5])
})

test('a saved upload that S3 no longer has starts afresh', async () => {
  const transport = new MemoryTransport()
  transport.listParts = async () => { throw new UploadError('NoSuchUpload', { status: 404, code: 'NoSuchUpload' }) }
  const store = new MemoryStore()
  store.save(file(1), { key: 'p/f', uploadId: 'gone', partSize: 5 * MiB, partCount: 5 })
  const up = new MultipartUpload({ transport, store, put: putInto(transport) })
  await up.upload(file(23 * MiB))
  assert.equal(transport.created, 1)
})

test('a file over max size is refused before anything is sent', async () => {
  const transport = new MemoryTransport()
  const up = new MultipartUpload({ transport, store: new MemoryStore(), maxSize: 10 * MiB, put: putInto(transport) })
  await assert.rejects(up.upload(file(10 * MiB + 1)), /largest file this site accepts is 10.0 MiB/)
  assert.equal(transport.created, 0)
})

test('cancel stops sending and aborts the multipart upload', async () => {
  const transport = new MemoryTransport()
  const store = new MemoryStore()
  let up = null
  const put = async (url, blob, { signal }) => {
    if (url === 'part:2') await up.cancel()
    if (signal.aborted) throw signal.reason
    return '"x"'
  }
  up = new MultipartUpload({ transport, store, put })
  await assert.rejects(up.upload(file(50 * MiB)), { name: 'AbortError' })
  assert.equal(transport.aborted, 1)
  assert.equal(transport.completed, null)
  assert.equal(store.load(file(1)), null)
})
