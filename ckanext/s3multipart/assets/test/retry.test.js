import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay, classify, UploadError, withRetry } from '../src/retry.js'

const noWait = async () => {}

test('transient failures are retried, others are not', () => {
  assert.equal(classify(new UploadError('x', { network: true })), 'retry')
  for (const status of [408, 429, 500, 502, 503, 504]) {
    assert.equal(classify(new UploadError('x', { status })), 'retry', String(status))
  }
  assert.equal(classify(new UploadError('x', { status: 400, code: 'RequestTimeout' })), 'retry')
  assert.equal(classify(new UploadError('x', { status: 503, code: 'SlowDown' })), 'retry')
  assert.equal(classify({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), 'retry')
  assert.equal(classify(new UploadError('x', { status: 400, code: 'ExpiredToken' })), 'refresh')
  assert.equal(classify(new UploadError('Request has expired', { status: 403 })), 'refresh')
  // Ceph RGW's answer to an expired presigned URL or session token
  assert.equal(classify(new UploadError('x', { status: 403, code: 'AccessDenied' })), 'refresh')
  assert.equal(classify(new UploadError('x', { status: 403, code: 'SignatureDoesNotMatch' })),
    'fatal')
  assert.equal(classify(new UploadError('x', { status: 400, code: 'EntityTooSmall' })), 'fatal')
  assert.equal(classify(new DOMException('cancelled', 'AbortError')), 'fatal')
})

test('backoff is exponential with full jitter and capped', () => {
  assert.equal(backoffDelay(0, { random: () => 0.999 }), 499)
  assert.equal(backoffDelay(3, { random: () => 0.5 }), 2000)
  assert.equal(backoffDelay(20, { random: () => 0.999 }), 19980)
  assert.equal(backoffDelay(5, { random: () => 0 }), 0)
})

test('retries until success, waiting between tries', async () => {
  const waits = []
  let calls = 0
  const result = await withRetry(async () => {
    calls += 1
    if (calls < 3) throw new UploadError('503', { status: 503 })
    return 'etag'
  }, { wait: async (ms) => waits.push(ms), delay: (n) => n * 10 })
  assert.equal(result, 'etag')
  assert.equal(calls, 3)
  assert.deepEqual(waits, [0, 10])
})

test('gives up after maxAttempts with a clear message', async () => {
  let calls = 0
  await assert.rejects(withRetry(async () => {
    calls += 1
    throw new UploadError('S3 answered 503', { status: 503 })
  }, { maxAttempts: 4, wait: noWait }), /gave up after 4 tries/)
  assert.equal(calls, 4)
})

test('fatal errors are neither retried nor refreshed', async () => {
  let calls = 0
  let refreshed = 0
  await assert.rejects(withRetry(async () => {
    calls += 1
    throw new UploadError('gone', { status: 404, code: 'NoSuchUpload' })
  }, { refresh: async () => { refreshed += 1 }, wait: noWait }), /gone/)
  assert.equal(calls, 1)
  assert.equal(refreshed, 0)
})

test('expired credentials are refreshed, then the request is retried', async () => {
  let refreshed = 0
  let calls = 0
  const result = await withRetry(async () => {
    calls += 1
    if (refreshed === 0) throw new UploadError('x', { status: 400, code: 'ExpiredToken' })
    return 'ok'
  }, { refresh: async () => { refreshed += 1 }, wait: noWait })
  assert.equal(result, 'ok')
  assert.equal(refreshed, 1)
  assert.equal(calls, 2)
})

test('without a way to refresh, an expiry or refusal is final', async () => {
  let calls = 0
  await assert.rejects(withRetry(async () => {
    calls += 1
    throw new UploadError('denied', { status: 403, code: 'AccessDenied' })
  }, { wait: noWait }), /denied/)
  assert.equal(calls, 1)
})

test('a refusal that persists after fresh URLs ends the retries', async () => {
  let refreshed = 0
  let calls = 0
  await assert.rejects(withRetry(async () => {
    calls += 1
    throw new UploadError('denied', { status: 403, code: 'AccessDenied' })
  }, { refresh: async () => { refreshed += 1 }, wait: noWait }), /denied/)
  assert.equal(refreshed, 3)
  assert.equal(calls, 4)
})

test('network errors twice in a row bring fresh URLs or credentials too', async () => {
  let refreshed = 0
  let calls = 0
  const result = await withRetry(async () => {
    calls += 1
    if (refreshed === 0) throw new UploadError('network error', { network: true })
    return 'ok'
  }, { refresh: async () => { refreshed += 1 }, wait: noWait })
  assert.equal(result, 'ok')
  assert.equal(refreshed, 1)
  assert.equal(calls, 3)
})

test('refreshing does not loop forever', async () => {
  let refreshed = 0
  await assert.rejects(withRetry(async () => {
    throw new UploadError('x', { status: 400, code: 'ExpiredToken' })
  }, { refresh: async () => { refreshed += 1 }, maxRefresh: 2, wait: noWait }), /x/)
  assert.equal(refreshed, 2)
})

test('cancelling stops retrying', async () => {
  const controller = new AbortController()
  let calls = 0
  await assert.rejects(withRetry(async () => {
    calls += 1
    controller.abort(new DOMException('cancelled', 'AbortError'))
    throw new UploadError('503', { status: 503 })
  }, { signal: controller.signal, wait: noWait }), /cancelled/)
  assert.equal(calls, 1)
})

test('a part the store refused as other bytes (BadDigest) is sent again, then given up', async () => {
  assert.equal(classify(new UploadError('x', { status: 400, code: 'BadDigest' })), 'digest')
  let calls = 0
  const retried = []
  const result = await withRetry(async () => {
    calls += 1
    if (calls < 3) throw new UploadError('BadDigest', { status: 400, code: 'BadDigest' })
    return 'etag'
  }, { wait: noWait, onRetry: (error, tries) => retried.push(tries) })
  assert.equal(result, 'etag')
  assert.deepEqual(retried, [1, 2])
  await assert.rejects(withRetry(async () => {
    throw new UploadError('S3 answered 400 BadDigest', { status: 400, code: 'BadDigest' })
  }, { wait: noWait, maxAttempts: 4 }), { code: 'BadDigest', tries: 4, message: 'S3 answered 400 BadDigest' })
})
