// The hashing workers' keeping and watching, with stand-in workers: one kept for the next
// file, a silent one replaced (its parts not passed on twice), one that never answers
// given up on, a stopped one ended.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashWorkers } from '../src/hash-workers.js'

// A stand-in worker: `script(worker, data)` answers each message (or not).
function maker (scripts) {
  const made = []
  const make = () => {
    const worker = {
      id: made.length,
      terminated: false,
      jobs: 0,
      terminate () { this.terminated = true },
      postMessage (data) {
        this.jobs += 1
        const script = scripts[this.id] || scripts[scripts.length - 1]
        setImmediate(() => script((message) => !this.terminated && this.onmessage({ data: message }), data))
      }
    }
    made.push(worker)
    return worker
  }
  return { make, made }
}

const answers = (send, { plan }) => {
  for (let part = 1; part <= plan.partCount; part++) send({ part, hex: `h${part}`, base64: `b${part}` })
  send({ sha256: 'f'.repeat(64) })
}
const silentAfterPart1 = (send) => send({ part: 1, hex: 'h1', base64: 'b1' })
const file = { name: 'day.csv' }

test('a worker that hashed a whole file hashes the next one', async () => {
  const { make, made } = maker([answers])
  const run = hashWorkers(make)
  const parts = []
  assert.equal(await run(file, { partCount: 2 }, (d) => parts.push(d.part)).promise, 'f'.repeat(64))
  assert.equal(await run(file, { partCount: 1 }, () => {}).promise, 'f'.repeat(64))
  assert.deepEqual(parts, [1, 2])
  assert.equal(made.length, 1)
  assert.equal(made[0].jobs, 2)
})

test('a worker silent for the stall time is replaced and the file hashed again, its parts passed on once', async () => {
  const { make, made } = maker([silentAfterPart1, answers])
  const run = hashWorkers(make, { stallMs: 20 })
  const parts = []
  assert.equal(await run(file, { partCount: 3 }, (d) => parts.push(d.part)).promise, 'f'.repeat(64))
  assert.deepEqual(parts, [1, 2, 3])
  assert.equal(made.length, 2)
  assert.ok(made[0].terminated)
})

test('a worker that keeps saying it is alive is not replaced', async () => {
  const slow = (send, data) => {
    let n = 0
    const beat = setInterval(() => {
      send({ alive: true })
      if (++n === 10) { clearInterval(beat); answers(send, data) }
    }, 20)
  }
  const { make, made } = maker([slow])
  // 200 ms in all, more than twice the stall time, never 80 ms without a word.
  assert.equal(await hashWorkers(make, { stallMs: 80 })(file, { partCount: 1 }, () => {}).promise, 'f'.repeat(64))
  assert.equal(made.length, 1)
})

test('a file no worker answers for fails with a message, after two fresh tries', async () => {
  const { make, made } = maker([() => {}])
  const run = hashWorkers(make, { stallMs: 10 })
  await assert.rejects(run(file, { partCount: 1 }, () => {}).promise,
    /the checksum worker stopped answering while reading day.csv/)
  assert.equal(made.length, 3)
  assert.ok(made.every((w) => w.terminated))
})

test('a file stopped half way ends its worker, which is not kept', async () => {
  const { make, made } = maker([silentAfterPart1, answers])
  const run = hashWorkers(make, { stallMs: 1000 })
  const { stop } = run(file, { partCount: 2 }, () => {})
  await new Promise((resolve) => setImmediate(resolve))
  stop()
  assert.ok(made[0].terminated)
  await run(file, { partCount: 1 }, () => {}).promise
  assert.equal(made.length, 2, 'a new worker for the next file')
})

test('a worker that cannot start fails the file with why, and stop() does not throw', async () => {
  const run = hashWorkers(() => { throw new Error('Refused to create a worker from blob: (CSP)') })
  const { promise, stop } = run(file, { partCount: 1 }, () => {})
  await assert.rejects(promise, /the checksum worker cannot start: Refused to create a worker/)
  stop()
})

test('a restart takes a new worker, not a kept one, and a part passed on starts the count again', async () => {
  // Worker 0 hashes the first file and is kept; for the second it goes silent after part 1,
  // worker 1 after part 2, worker 2 after part 3, worker 3 answers: three silences, but
  // each after a new part, so the file is not given up.
  let calls = 0
  const script = (send, data) => {
    calls += 1
    if (calls === 1) return answers(send, data)
    const upTo = calls - 1
    for (let part = 1; part <= upTo; part++) send({ part, hex: `h${part}`, base64: `b${part}` })
    if (upTo >= 4) send({ sha256: 'e'.repeat(64) })
  }
  const { make, made } = maker([script])
  const run = hashWorkers(make, { stallMs: 20 })
  await run(file, { partCount: 1 }, () => {}).promise
  const parts = []
  assert.equal(await run(file, { partCount: 4 }, (d) => parts.push(d.part)).promise, 'e'.repeat(64))
  assert.deepEqual(parts, [1, 2, 3, 4])
  assert.equal(made.length, 4, 'worker 0, then a new one for each restart')
  assert.ok(made.slice(0, 3).every((w) => w.terminated))
})
