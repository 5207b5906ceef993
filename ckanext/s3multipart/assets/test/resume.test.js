import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planParts, MiB } from '../src/plan.js'
import { mergeListedParts } from '../src/resume.js'

const size = 23 * MiB // 5 parts: 4 x 5 MiB + 3 MiB
const plan = planParts(size)

test('listed parts of the right size are kept, the rest is to do', () => {
  const listed = [
    { part_number: 1, etag: '"a"', size: 5 * MiB },
    { part_number: 2, etag: '"b"', size: 5 * MiB },
    { part_number: 5, etag: '"e"', size: 3 * MiB }
  ]
  const { done, todo } = mergeListedParts(plan, size, listed)
  assert.deepEqual([...done.entries()], [[1, '"a"'], [2, '"b"'], [5, '"e"']])
  assert.deepEqual(todo, [3, 4])
})

test('a part cut short, or outside the plan, is sent again', () => {
  const listed = [
    { PartNumber: 1, ETag: '"a"', Size: 5 * MiB },
    { PartNumber: 2, ETag: '"short"', Size: 1024 },
    { PartNumber: 9, ETag: '"stray"', Size: 5 * MiB }
  ]
  const { done, todo } = mergeListedParts(plan, size, listed)
  assert.deepEqual([...done.keys()], [1])
  assert.deepEqual(todo, [2, 3, 4, 5])
})

test('nothing listed means everything to do', () => {
  assert.deepEqual(mergeListedParts(plan, size, []).todo, [1, 2, 3, 4, 5])
})
