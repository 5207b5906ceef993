import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planParts, MiB } from '../src/plan.js'
import { holdsBytes, mergeListedParts } from '../src/resume.js'

const size = 23 * MiB // 5 parts: 4 x 5 MiB + 3 MiB
const plan = planParts(size)

test('listed parts of the right size are candidates, the rest is to do', () => {
  const listed = [
    { part_number: 1, etag: '"a"', size: 5 * MiB },
    { part_number: 2, etag: '"b"', size: 5 * MiB },
    { part_number: 5, etag: '"e"', size: 3 * MiB }
  ]
  const { done, todo } = mergeListedParts(plan, size, listed)
  assert.deepEqual([...done.entries()], [[1, '"a"'], [2, '"b"'], [5, '"e"']])
  assert.deepEqual(todo, [3, 4])
})

test('a part cut short, or outside the plan, is not', () => {
  const listed = [
    { PartNumber: 1, ETag: '"a"', Size: 5 * MiB },
    { PartNumber: 2, ETag: '"short"', Size: 1024 },
    { PartNumber: 9, ETag: '"stray"', Size: 5 * MiB }
  ]
  const { done, todo } = mergeListedParts(plan, size, listed)
  assert.deepEqual([...done.keys()], [1])
  assert.deepEqual(todo, [2, 3, 4, 5])
  assert.deepEqual(mergeListedParts(plan, size, []).todo, [1, 2, 3, 4, 5])
})

test('a stored part is kept only if its ETag is the MD5 of the local bytes', () => {
  const md5 = '9e107d9d372bb6826bd81d3542a419d6'
  assert.equal(holdsBytes(`"${md5}"`, md5), true)
  assert.equal(holdsBytes(`"${md5.toUpperCase()}"`, md5), true)
  assert.equal(holdsBytes('"e4d909c290d0fb1ca068ffaddf22cbd0"', md5), false)
  // Not an MD5 (SSE-KMS, a store's own form): the size is all there is to go by.
  assert.equal(holdsBytes('"abc-3"', md5), true)
  assert.equal(holdsBytes('"0123456789abcdef0123456789abcdef0"', md5), true)
})
