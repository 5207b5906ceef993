// The Batch against an in-memory CKAN and uploads the test finishes by hand: what is
// skipped, how many files run at once, keys and resources in few calls, pause, resume,
// cancel, retry, and a failed file that does not stop the others.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Batch } from '../src/batch.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))
const settle = async () => { for (let i = 0; i < 20; i++) await tick() }

// An upload the test ends: `finish()`, `fail(error)`; pause and cancel reject it as the
// real one does (its controller's reason).
class HeldUpload {
  constructor (name, log) {
    this.name = name
    this.log = log
    this.controller = new AbortController()
    this.cancelled = false
  }

  upload () {
    this.log.started.push(this.name)
    return new Promise((resolve, reject) => {
      this.finish = () => resolve({ key: `p/${this.name}`, size: 1, sha256: 'a'.repeat(64) })
      this.fail = reject
      this.controller.signal.addEventListener('abort', () => reject(this.controller.signal.reason))
    })
  }

  async cancel () {
    this.cancelled = true
    this.controller.abort(new DOMException('Upload cancelled', 'AbortError'))
    await this.log.cancelGate // a store slow to abort, when the test sets one
  }
}

// `keysGate`: a promise the keys call waits for; `resources(data)`: the answer of a
// resources call, instead of the usual one (it may throw, as a call that fails).
function setUp ({ present = [], filesConcurrency = 2, resourceError = () => null, keysGate = null, resources = null } = {}) {
  const log = { calls: [], started: [], uploads: new Map(), credentials: [], timers: [] }
  const api = async (action, data) => {
    log.calls.push([action, data])
    if (action === 's3multipart_batch_keys') await keysGate
    if (action === 's3multipart_resources_create' && resources) return resources(data)
    if (action === 's3multipart_batch_keys') {
      return {
        prefix: 'o/d/batch/',
        files: data.files.map((f) => f.name.endsWith('bad.csv')
          ? { name: f.name, error: 'no usable characters' }
          : { name: f.name, key: `o/d/batch/${f.name.replace('CLASH', 'same')}`, content_type: 'text/csv', part_size: 5, part_count: 1 })
      }
    }
    if (action === 's3multipart_resources_create') {
      return {
        resources: data.resources.map((r) => resourceError(r.name)
          ? { s3_key: r.s3_key, error: resourceError(r.name) }
          : { s3_key: r.s3_key, id: `id-${r.name}`, state: 'created' })
      }
    }
    throw new Error(`unexpected ${action}`)
  }
  const batch = new Batch({
    api,
    dataset: 'd',
    present: new Map(present),
    filesConcurrency,
    uploader: (item) => {
      const upload = new HeldUpload(item.name, log)
      log.uploads.set(item.name, upload)
      return upload
    },
    credentials: async (prefix) => { log.credentials.push(prefix); return {} },
    setTimer: (fn) => log.timers.push(fn) // run by the test, if at all
  })
  return { batch, log }
}

const files = (...names) => names.map((name, i) => ({ file: { size: i + 1, type: '' }, name }))
const states = (batch) => Object.fromEntries(batch.items.map((i) => [i.name, i.state]))

test('system files, files the dataset has and a second file of one name are not uploaded', async () => {
  const { batch, log } = setUp({ present: [['d/have.csv', 2]] })
  batch.add([
    ...files('d/.DS_Store', 'd/have.csv', 'd/a.csv'),
    { file: { size: 9, type: '' }, name: 'd\\a.csv' },
    { file: { size: 7, type: '' }, name: '__MACOSX/d/._a.csv' }
  ])
  await settle()
  assert.deepEqual(batch.items.map((i) => [i.name, i.state]), [
    ['d/.DS_Store', 'skipped'], ['d/have.csv', 'skipped'], ['d/a.csv', 'uploading'],
    ['d/a.csv', 'failed'], ['__MACOSX/d/._a.csv', 'skipped']
  ])
  assert.match(batch.items[3].message, /in the batch already/)
  batch.retry(batch.items[3]) // would upload it to the other d/a.csv's key
  await settle()
  assert.equal(batch.items[3].state, 'failed')
  assert.deepEqual(log.started, ['d/a.csv'])
  assert.deepEqual(log.started, ['d/a.csv'])
})

test('files go filesConcurrency at a time, keys and resources in few calls', async () => {
  const { batch, log } = setUp({ filesConcurrency: 2 })
  batch.add(files('f1', 'f2', 'f3', 'f4', 'f5'))
  await settle()
  assert.deepEqual(log.started, ['f1', 'f2'])
  // One s3multipart_batch_keys call planned every queued file.
  const keyCalls = log.calls.filter(([a]) => a === 's3multipart_batch_keys')
  assert.equal(keyCalls.length, 1)
  assert.deepEqual(keyCalls[0][1].files.map((f) => f.name), ['f1', 'f2', 'f3', 'f4', 'f5'])
  for (const name of ['f1', 'f2', 'f3', 'f4', 'f5']) {
    await settle()
    log.uploads.get(name).finish()
    await settle()
    assert.ok(batch.running.size <= 2)
  }
  await settle()
  assert.deepEqual(Object.values(states(batch)), Array(5).fill('done'))
  const made = log.calls.filter(([a]) => a === 's3multipart_resources_create')
  assert.equal(made.length, 1, 'one resources_create call: the files finished within its wait')
  assert.deepEqual(made.flatMap(([, d]) => d.resources.map((r) => r.name)).sort(), ['f1', 'f2', 'f3', 'f4', 'f5'])
  assert.deepEqual(made[0][1].resources[0], { s3_key: 'p/f1', name: 'f1', hash: 'a'.repeat(64), hash_algorithm: 'sha256' })
  assert.deepEqual(batch.totals(), { total: 15, loaded: 15, files: 5, done: 5 })
})

test('a failed file does not stop the others, and Retry sends it again', async () => {
  const { batch, log } = setUp({ filesConcurrency: 1 })
  batch.add(files('a', 'b', 'x/bad.csv'))
  await settle()
  log.uploads.get('a').fail(new Error('S3 answered 500'))
  await settle()
  assert.equal(batch.items[0].state, 'failed')
  assert.equal(batch.items[0].message, 'S3 answered 500')
  log.uploads.get('b').finish()
  await settle()
  assert.equal(batch.items[1].state, 'done')
  assert.equal(batch.items[2].state, 'failed') // the server's key error
  assert.match(batch.items[2].message, /no usable characters/)
  batch.retry(batch.items[0])
  await settle()
  assert.equal(batch.items[0].state, 'uploading')
  log.uploads.get('a').finish()
  await settle()
  assert.equal(batch.items[0].state, 'done')
})

test('two names CKAN stores at one key: the second is refused', async () => {
  const { batch } = setUp({ filesConcurrency: 1 })
  batch.add(files('CLASH', 'same'))
  await settle()
  await settle()
  assert.equal(batch.items[1].state, 'queued')
  assert.match(batch.items[1].plan.error, /same key as 'CLASH'/)
})

test('pause: nothing new starts, the running files wait as paused; resume goes on', async () => {
  const { batch, log } = setUp({ filesConcurrency: 2 })
  batch.add(files('a', 'b', 'c'))
  await settle()
  batch.pause()
  await settle()
  assert.deepEqual(states(batch), { a: 'paused', b: 'paused', c: 'queued' })
  assert.deepEqual(log.started, ['a', 'b'])
  batch.resume()
  await settle()
  assert.deepEqual(log.started, ['a', 'b', 'a', 'b']) // the paused ones first, anew
  for (const name of ['a', 'b']) log.uploads.get(name).finish()
  await settle()
  log.uploads.get('c').finish()
  await settle()
  assert.deepEqual(Object.values(states(batch)), ['done', 'done', 'done'])
})

test('cancel aborts the unfinished uploads and keeps the finished files\' resources', async () => {
  const { batch, log } = setUp({ filesConcurrency: 2 })
  batch.add(files('a', 'b', 'c', 'd'))
  await settle()
  log.uploads.get('a').finish()
  await settle()
  await batch.cancel()
  await settle()
  assert.equal(batch.items[0].state, 'done')
  assert.ok(log.uploads.get('b').cancelled)
  assert.deepEqual(states(batch), { a: 'done', b: 'failed', c: 'failed', d: 'failed' })
  assert.ok(batch.items.slice(1).every((i) => i.message === 'cancelled'))
  assert.equal(log.uploads.has('d'), false)
})

test('a resource CKAN refuses fails that file only', async () => {
  const { batch, log } = setUp({ resourceError: (name) => name === 'b' ? 'No object' : null })
  batch.add(files('a', 'b'))
  await settle()
  log.uploads.get('a').finish()
  log.uploads.get('b').finish()
  await settle()
  assert.deepEqual(states(batch), { a: 'done', b: 'failed' })
  assert.equal(batch.items[1].message, 'No object')
  assert.equal(batch.items[0].resourceId, 'id-a')
})

test('Retry of a file just cancelled runs it once more, after the cancel', async () => {
  const { batch, log } = setUp({ filesConcurrency: 1 })
  batch.add(files('a', 'b'))
  await settle()
  const cancelling = batch.cancel()
  await tick()
  assert.equal(batch.items[0].state, 'failed')
  batch.retry(batch.items[0]) // while the cancel is still aborting
  await cancelling
  await settle()
  assert.deepEqual(log.started, ['a', 'a'])
  assert.deepEqual(states(batch), { a: 'uploading', b: 'failed' })
  log.uploads.get('a').finish()
  await settle()
  assert.deepEqual(states(batch), { a: 'done', b: 'failed' })
})

test('Resume before a pause took hold: the files go on, none fails', async () => {
  const { batch, log } = setUp({ filesConcurrency: 2 })
  batch.add(files('a', 'b', 'c'))
  await settle()
  batch.pause()
  batch.resume()
  await settle()
  assert.deepEqual(states(batch), { a: 'uploading', b: 'uploading', c: 'queued' })
  assert.deepEqual(log.started, ['a', 'b', 'a', 'b'])
})

test('a pause while the keys are asked for starts no upload', async () => {
  let release
  const { batch, log } = setUp({ keysGate: new Promise((resolve) => { release = resolve }) })
  batch.add(files('a', 'b'))
  await settle()
  batch.pause()
  release()
  await settle()
  assert.deepEqual(states(batch), { a: 'paused', b: 'paused' })
  assert.deepEqual(log.started, [])
  batch.resume()
  await settle()
  assert.deepEqual(log.started, ['a', 'b'])
})

test('a resources call that fails keeps the uploads: Retry only makes the resource', async () => {
  let fail = true
  const { batch, log } = setUp({
    resources: (data) => {
      if (fail) throw new Error('CKAN answered 502')
      return { resources: data.resources.map((r) => ({ s3_key: r.s3_key, id: `id-${r.name}`, state: 'created' })) }
    }
  })
  batch.add(files('a'))
  await settle()
  log.uploads.get('a').finish()
  await settle()
  assert.equal(batch.items[0].state, 'failed')
  assert.equal(batch.items[0].message, 'uploaded, but no resource was made: CKAN answered 502')
  fail = false
  batch.retry(batch.items[0])
  await settle()
  assert.deepEqual(log.started, ['a'], 'sent again')
  assert.equal(batch.items[0].state, 'done')
  assert.equal(batch.items[0].resourceId, 'id-a')
})

test('an answer the page cannot read fails its files instead of leaving them waiting', async () => {
  const { batch, log } = setUp({ resources: () => ({}) })
  batch.add(files('a', 'b'))
  await settle()
  log.uploads.get('a').finish()
  log.uploads.get('b').finish()
  await settle()
  assert.deepEqual(states(batch), { a: 'failed', b: 'failed' })
  assert.match(batch.items[0].message, /^uploaded, but no resource was made: /)
  assert.equal(batch.running.size, 0)
})

test('Resume while a slow cancel aborts does nothing; a file retried meanwhile starts after it', async () => {
  const { batch, log } = setUp({ filesConcurrency: 1 })
  let release
  log.cancelGate = new Promise((resolve) => { release = resolve })
  batch.add(files('a', 'b'))
  await settle()
  const cancelling = batch.cancel()
  await settle()
  batch.retry(batch.items[0])
  batch.resume() // shown nowhere while cancelling; refused if called
  await settle()
  assert.deepEqual(log.started, ['a'], 'nothing starts before the abort is over')
  assert.equal(batch.items[0].state, 'queued')
  release()
  await cancelling
  await settle()
  assert.deepEqual(log.started, ['a', 'a'])
  assert.equal(batch.cancelling, false)
})
