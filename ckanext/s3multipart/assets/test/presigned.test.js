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
      return { urls: Object.fromEntries(data.part_numbers.map(n => [String(n), `url-${n}-${calls.length}`])) }
    }
    return {}
  }
  return { api, calls, signs: () => calls.filter(c => c.action === 's3multipart_upload_sign') }
}

const file = { name: 'f.bin', size: 200, type: '' }

test('parts asked for at once share one signing request', async () => {
  const ckan = fakeCkan()
  const transport = new PresignedTransport(ckan.api, { dataset: 'd' })
  await transport.begin(file)
  const urls = await Promise.all([1, 2, 3, 4].map(n => transport.partUrl(n)))
  assert.equal(ckan.signs().length, 1)
  assert.deepEqual(ckan.signs()[0].data.part_numbers, Array.from({ length: 16 }, (_, i) => i + 1))
  assert.deepEqual(urls.map(u => u.split('-')[1]), ['1', '2', '3', '4'])
})

test('40 parts need 3 signing requests, and a used URL is signed afresh', async () => {
  const ckan = fakeCkan()
  const transport = new PresignedTransport(ckan.api, { dataset: 'd' })
  await transport.begin(file)
  for (let n = 1; n <= 40; n++) await transport.partUrl(n)
  assert.equal(ckan.signs().length, 3)
  await transport.partUrl(7) // a retry of part 7 needs a new URL
  assert.equal(ckan.signs().length, 4)
  assert.equal(ckan.signs()[3].data.part_numbers[0], 7)
})
