// digest.js (the worker's hashing) against node:crypto, and FileDigests' bookkeeping.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { chunksOf, digestFile } from '../src/digest.js'
import { FileDigests } from '../src/digests.js'
import { planParts, MiB } from '../src/plan.js'

const md5 = (bytes) => createHash('md5').update(bytes)
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

// Sizes around the part (5 MiB) and chunk boundaries, read in odd chunks too.
const cases = [
  [0, undefined], [1, undefined], [5 * MiB - 1, undefined], [5 * MiB, undefined],
  [5 * MiB + 1, undefined], [10 * MiB, undefined], [12 * MiB + 12345, undefined],
  [5 * MiB + 7, 1000003], [3 * 5 * MiB, 5 * MiB]
]

for (const [size, chunkSize] of cases) {
  test(`digests of ${size} bytes${chunkSize ? ` in chunks of ${chunkSize}` : ''} match node:crypto`, async () => {
    const bytes = randomBytes(size)
    const plan = planParts(size)
    const parts = []
    const whole = await digestFile(new Blob([bytes]), plan, { onPart: (d) => parts.push(d), chunkSize })
    assert.equal(whole, sha256(bytes))
    assert.deepEqual(parts.map((d) => d.part), Array.from({ length: plan.partCount }, (_, i) => i + 1))
    for (const d of parts) {
      const slice = bytes.subarray((d.part - 1) * plan.partSize, d.part * plan.partSize)
      assert.equal(d.hex, md5(slice).digest('hex'), `part ${d.part}`)
      assert.equal(d.base64, md5(slice).digest('base64'), `part ${d.part}`)
    }
  })
}

test('an empty file is one part: the MD5 of nothing', async () => {
  const parts = []
  await digestFile(new Blob([]), planParts(0), { onPart: (d) => parts.push(d) })
  assert.deepEqual(parts, [{ part: 1, hex: 'd41d8cd98f00b204e9800998ecf8427e', base64: '1B2M2Y8AsgTpgAmY7PhCfg==' }])
})

// A Blob whose slices can only be read whole (no byte stream): digestFile's other path.
const arrayBufferOnly = (bytes, reads) => ({
  size: bytes.length,
  slice: (from, to) => ({
    size: to - from,
    slice: (start, end) => ({ arrayBuffer: async () => { reads.push([from + start, from + end]); return bytes.subarray(from + start, from + end) } })
  })
})

test('without byte streams the file is read in order, a chunk at a time, never more', async () => {
  const bytes = randomBytes(12 * MiB)
  const reads = []
  const parts = []
  const whole = await digestFile(arrayBufferOnly(bytes, reads), planParts(bytes.length), { onPart: (d) => parts.push(d), chunkSize: 2 * MiB })
  assert.ok(reads.every(([start, end], i) => end - start <= 2 * MiB && start === (i ? reads[i - 1][1] : 0)))
  assert.equal(reads.at(-1)[1], bytes.length)
  assert.equal(whole, sha256(bytes))
  assert.equal(parts[2].hex, md5(bytes.subarray(10 * MiB)).digest('hex'))
})

test('a byte stream is read into one buffer, again and again', async () => {
  const bytes = randomBytes(3 * MiB + 5)
  const buffers = new Set()
  let total = 0
  for await (const chunk of chunksOf(new Blob([bytes]), MiB)) {
    assert.ok(chunk.byteLength <= MiB)
    assert.deepEqual(chunk, new Uint8Array(bytes.subarray(total, total + chunk.byteLength)))
    total += chunk.byteLength
    buffers.add(chunk.buffer.byteLength)
  }
  assert.equal(total, bytes.length)
  assert.deepEqual([...buffers], [MiB]) // every chunk a view of a 1 MiB buffer, none fresh
})

test('a stream that is not a byte stream falls back to whole reads', async () => {
  const bytes = randomBytes(MiB + 1)
  const blob = new Blob([bytes])
  blob.stream = () => new ReadableStream({ pull (c) { c.close() } }) // getReader({mode: 'byob'}) throws
  let total = 0
  for await (const chunk of chunksOf(blob, MiB)) total += chunk.byteLength
  assert.equal(total, bytes.length)
})

const inline = (file, plan, onPart) => ({ promise: digestFile(file, plan, { onPart }), stop () {} })

test('FileDigests gives each part when hashed, and the whole at the end', async () => {
  const bytes = randomBytes(11 * MiB)
  const seen = []
  const digests = new FileDigests(new Blob([bytes]), planParts(bytes.length), inline, (d) => seen.push(d.part))
  const [three, one] = await Promise.all([digests.part(3), digests.part(1)])
  assert.equal(three.hex, md5(bytes.subarray(10 * MiB)).digest('hex'))
  assert.equal(one.hex, md5(bytes.subarray(0, 5 * MiB)).digest('hex'))
  assert.equal(await digests.sha256(), sha256(bytes))
  assert.deepEqual(seen, [1, 2, 3])
  assert.equal((await digests.part(2)).part, 2) // asked after it arrived
})

test('a file that cannot be read fails every part still awaited', async () => {
  const failing = (file, plan, onPart) => {
    const promise = (async () => { onPart({ part: 1, hex: 'x', base64: 'y' }); throw new Error('changed on disk') })()
    return { promise, stop () {} }
  }
  const digests = new FileDigests(new Blob([]), { partSize: 5, partCount: 3 }, failing)
  assert.equal((await digests.part(1)).hex, 'x')
  await assert.rejects(digests.part(2), /changed on disk/)
  await assert.rejects(digests.part(3), /changed on disk/)
  await assert.rejects(digests.sha256(), /changed on disk/)
})
