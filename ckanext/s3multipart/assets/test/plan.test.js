import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planParts, partRange, MiB } from '../src/plan.js'
import { MAX_PARTS } from '../src/limits.js'

const GiB = 1024 * MiB
const TiB = 1024 * GiB

test('part plans match the server (parts.py) for the same sizes', () => {
  const cases = [
    [0, 5 * MiB, 1], [1, 5 * MiB, 1], [5 * MiB, 5 * MiB, 1], [5 * MiB + 1, 5 * MiB, 2],
    [GiB, 5 * MiB, 205], [10000 * 5 * MiB, 5 * MiB, 10000], [10000 * 5 * MiB + 1, 10 * MiB, 5001],
    [50 * GiB, 10 * MiB, 5120], [TiB, 160 * MiB, 6554], [5 * TiB, 640 * MiB, 8192]
  ]
  for (const [size, partSize, partCount] of cases) {
    assert.deepEqual(planParts(size), { partSize, partCount }, `size ${size}`)
  }
})

test('never more than 10,000 parts nor less than 5 MiB, whatever the size', () => {
  for (let size = 0; size <= 5 * TiB; size += 97 * GiB + 12345) {
    const plan = planParts(size)
    assert.ok(plan.partCount <= MAX_PARTS && plan.partSize >= 5 * MiB)
    assert.ok(plan.partCount * plan.partSize >= size)
  }
})

test('configured part size is the starting point; below 5 MiB is raised', () => {
  assert.deepEqual(planParts(100 * MiB, 8 * MiB), { partSize: 8 * MiB, partCount: 13 })
  assert.deepEqual(planParts(100 * MiB, MiB), { partSize: 5 * MiB, partCount: 20 })
})

test('the last part is the remainder', () => {
  const size = 12 * MiB + 7
  const plan = planParts(size)
  assert.deepEqual(partRange(plan, size, 1), { start: 0, end: 5 * MiB })
  assert.deepEqual(partRange(plan, size, 3), { start: 10 * MiB, end: size })
})

test('impossible sizes are refused', () => {
  assert.throws(() => planParts(-1), RangeError)
  assert.throws(() => planParts(5 * TiB + 1), /at most 5.0 TiB/)
  assert.throws(() => planParts(1.5), RangeError)
})
