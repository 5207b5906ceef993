import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CredentialCache, refreshAt } from '../src/credentials.js'

const minute = 60 * 1000

test('renewal is due 5 minutes before expiry for long lifetimes, a quarter before for short', () => {
  assert.equal(refreshAt(0, 60 * minute), 55 * minute)
  assert.equal(refreshAt(0, 15 * minute), 15 * minute - 225 * 1000)
  assert.equal(refreshAt(0, 4 * minute), 3 * minute)
})

function fakeSts (now, lifetime = 60 * minute) {
  const issued = []
  return {
    issued,
    fetch: async () => {
      issued.push(now.t)
      return {
        AccessKeyId: `AK${issued.length}`,
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date(now.t + lifetime).toISOString()
      }
    }
  }
}

test('credentials are reused until renewal is due, then renewed once', async () => {
  const now = { t: Date.parse('2026-01-01T00:00:00Z') }
  const sts = fakeSts(now)
  const cache = new CredentialCache(sts.fetch, { now: () => now.t })
  assert.equal((await cache.get()).accessKeyId, 'AK1')
  now.t += 54 * minute
  assert.equal((await cache.get()).accessKeyId, 'AK1')
  now.t += 2 * minute
  const many = await Promise.all(Array.from({ length: 8 }, () => cache.get()))
  assert.ok(many.every(c => c.accessKeyId === 'AK2'))
  assert.equal(sts.issued.length, 2)
})

test('a 6-hour upload with 60-minute credentials always holds unexpired ones', async () => {
  const now = { t: 0 }
  const sts = fakeSts(now)
  const cache = new CredentialCache(sts.fetch, { now: () => now.t })
  for (; now.t < 6 * 60 * minute; now.t += 7 * 1000) {
    const c = await cache.get()
    assert.ok(c.expiration.getTime() - now.t > 4 * minute)
  }
  assert.ok(sts.issued.length >= 6 && sts.issued.length <= 7, String(sts.issued.length))
})

test('force renews at once (after an ExpiredToken answer)', async () => {
  const now = { t: 0 }
  const sts = fakeSts(now)
  const cache = new CredentialCache(sts.fetch, { now: () => now.t })
  await cache.get()
  assert.equal((await cache.get(true)).accessKeyId, 'AK2')
})
