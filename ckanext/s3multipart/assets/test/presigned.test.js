import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PresignedTransport } from '../src/presigned.js'

function fakeCkan () {
  const calls = []
  const api = async (action, data) => {
    calls.push({ action, data })
    await new Promise(resolve => setTimeout(resolve, 5))
    if (action === 's3multipart_upload_start') {
      return { key: 'p/k', upload_id: 'u1', part_size: 5, part_count: 40, concurrency: 4 }
    }
    if (action === 's3multipart_upload_sign') {
      return { urls: Object.fromEntries(data.parts.map(p => [String(p.part_number), `url-${p.part_number}-${p.content_md5}`])) }
    }
    return {}
  }
  return { api, calls, signs: () => calls.filter(c => c.action === 's3multipart_upload_sign') }
}

const file = { name: 'f.bin', size: 200, type: '' }
const md5 = (n) => `md5-of-${n}`
const hashed = (upTo) => new Map(Array.from({ length: upTo }, (_, i) => [i + 1, md5(i + 1)]))

test('parts asked for at once share one signing request, each with its Content-MD5', async () => {
  const ckan = fakeCkan()
  const transport = new PresignedTransport(ckan.api, { dataset: 'd' })
  await transport.begin(file)
  const md5s = hashed(40)
  const urls = await Promise.all([1, 2, 3, 4].map(n => transport.partRequest(n, md5s)))
  assert.equal(ckan.signs().length, 1)
  assert.deepEqual(ckan.signs()[0].data.parts,
    Array.from({ length: 16 }, (_, i) => ({ part_number: i + 1, content_md5: md5(i + 1) })))
  assert.deepEqual(urls, [1, 2, 3, 4].map(n => ({ url: `url-${n}-${md5(n)}`, headers: { 'Content-MD5': md5(n) } })))
})

test('40 hashed parts need 3 signing requests, and a used URL is signed afresh alone', async () => {
  const ckan = fakeCkan()
  const transport = new PresignedTransport(ckan.api, { dataset: 'd' })
  await transport.begin(file)
  const md5s = hashed(40)
  for (let n = 1; n <= 40; n++) await transport.partRequest(n, md5s)
  assert.equal(ckan.signs().length, 3)
  await transport.partRequest(7, md5s) // a retry of part 7 needs a new URL
  assert.equal(ckan.signs().length, 4)
  assert.deepEqual(ckan.signs()[3].data.parts, [{ part_number: 7, content_md5: md5(7) }])
})

test('only parts already hashed are signed ahead; the rest when they are', async () => {
  const ckan = fakeCkan()
  const transport = new PresignedTransport(ckan.api, { dataset: 'd' })
  await transport.begin(file)
  const md5s = hashed(3) // the hasher has got to part 3
  await transport.partRequest(1, md5s)
  assert.deepEqual(ckan.signs()[0].data.parts.map(p => p.part_number), [1, 2, 3])
  for (let n = 4; n <= 40; n++) md5s.set(n, md5(n))
  for (let n = 2; n <= 40; n++) await transport.partRequest(n, md5s)
  // 1 + ceil(37 / 16): about one CKAN request per 16 parts, not one per part
  assert.equal(ckan.signs().length, 4)
})
