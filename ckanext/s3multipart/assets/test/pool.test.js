import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPool } from '../src/pool.js'

const tick = () => new Promise(resolve => setTimeout(resolve, 1))

test('keeps at most `concurrency` items in flight and does them all', async () => {
  let running = 0
  let peak = 0
  const done = []
  await runPool([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, async (n) => {
    running += 1
    peak = Math.max(peak, running)
    await tick()
    done.push(n)
    running -= 1
  })
  assert.equal(peak, 4)
  assert.deepEqual(done.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
})

test('the first failure stops new work and is thrown', async () => {
  const started = []
  await assert.rejects(runPool([1, 2, 3, 4, 5, 6], 2, async (n) => {
    started.push(n)
    await tick()
    if (n === 2) throw new Error('part 2 failed for good')
  }), /part 2 failed/)
  assert.ok(started.length <= 4, started.join())
})
