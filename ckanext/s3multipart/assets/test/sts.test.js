// STS mode's part requests: signed by the SDK in headers, for the part's Content-MD5.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StsTransport } from '../src/sts.js'
import { CredentialCache } from '../src/credentials.js'

const MD5 = '1B2M2Y8AsgTpgAmY7PhCfg=='

function transport (settings = {}) {
  const sts = new StsTransport(async () => ({}), { dataset: 'd' })
  return Object.assign(sts, {
    settings: { region: 'us-east-1', endpoint_url: 'http://127.0.0.1:9', addressing_style: 'path', bucket: 'b', ...settings },
    key: 'org/ds/u/f ü.bin',
    uploadId: 'up~1',
    credentials: new CredentialCache(async () => ({
      AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'ST', Expiration: new Date(Date.now() + 3600e3).toISOString()
    }))
  })
}

const signedHeaders = (headers) => headers.authorization.match(/SignedHeaders=([^,]+)/)[1]

test("a part's PUT signs its Content-MD5 in headers and nothing the bucket's CORS rule does not know", async () => {
  const { url, headers } = await transport().partRequest(3, new Map([[3, MD5]]))
  const parsed = new URL(url)
  assert.equal(parsed.origin + parsed.pathname, 'http://127.0.0.1:9/b/org/ds/u/f%20%C3%BC.bin')
  assert.equal(parsed.searchParams.get('partNumber'), '3')
  assert.equal(parsed.searchParams.get('uploadId'), 'up~1')
  assert.equal(parsed.searchParams.get('X-Amz-Signature'), null, 'signed in the query: RGW fails the preflight')
  assert.equal(signedHeaders(headers), 'content-md5;host;x-amz-content-sha256;x-amz-date;x-amz-security-token')
  assert.match(headers.authorization, /^AWS4-HMAC-SHA256 Credential=AK\/\d{8}\/us-east-1\/s3\/aws4_request, /)
  assert.deepEqual(Object.keys(headers).map(h => h.toLowerCase()).sort(),
    ['authorization', 'content-md5', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token'])
  assert.equal(headers['content-md5'], MD5)
  assert.equal(headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD')
  assert.equal(headers['x-amz-security-token'], 'ST')
})

test('another Content-MD5 gets another signature, and virtual-hosted addressing its host', async () => {
  const sts = transport({ addressing_style: 'virtual', endpoint_url: 'https://s3.example.org', bucket: 'survey' })
  const one = await sts.partRequest(1, new Map([[1, MD5]]))
  const other = await sts.partRequest(1, new Map([[1, 'XUFAKrxLKna5cZ2REBfFkg==']]))
  assert.equal(new URL(one.url).host, 'survey.s3.example.org')
  assert.notEqual(one.headers.authorization.split('Signature=')[1], other.headers.authorization.split('Signature=')[1])
})

test('renewed credentials keep the clock offset the SDK learnt: part PUTs cannot teach it', async () => {
  const sts = transport()
  const before = await sts.partRequest(1, new Map([[1, MD5]]))
  sts.client.config.systemClockOffset = 2 * 3600e3 // as after a RequestTimeTooSkewed answer
  await sts.refresh()
  const after = await sts.partRequest(1, new Map([[1, MD5]]))
  const at = (headers) => Date.parse(headers['x-amz-date'].replace(/(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/, '$1-$2-$3T$4:$5:$6Z'))
  const ahead = at(after.headers) - at(before.headers)
  assert.ok(ahead > 1.9 * 3600e3 && ahead < 2.1 * 3600e3, `signed ${ahead} ms later`)
})

test('a part not hashed yet is never signed', async () => {
  await assert.rejects(transport().partRequest(2, new Map([[1, MD5]])), /part 2 is not hashed yet/)
})

test("a file of one part goes in one PutObject: its media type, metadata and ACL signed with its Content-MD5", async () => {
  const sts = new StsTransport(async () => ({}), {
    dataset: 'd',
    placement: {
      name: 'd/a.csv',
      plan: { key: 'o/d/batch/d/a.csv', content_type: 'text/csv' },
      credentials: async () => ({
        answer: {
          region: 'us-east-1', endpoint_url: 'http://127.0.0.1:9', addressing_style: 'path', bucket: 'b',
          prefix: 'o/d/batch/', part_size: 5 * 1024 * 1024, metadata: { 'ckan-user': 'u1' }, acl: 'private'
        },
        cache: transport().credentials
      })
    }
  })
  sts.s3 = (original => async () => {
    const client = await original.call(sts)
    client.send = ((send) => async (command) => {
      if (command.constructor.name === 'CreateMultipartUploadCommand') throw new Error('a multipart upload was made')
      return send.call(client, command)
    })(client.send)
    return client
  })(sts.s3)
  const session = await sts.begin({ size: 1024, name: 'a.csv' })
  assert.equal(session.single, true)
  const { url, headers } = await sts.partRequest(1, new Map([[1, MD5]]))
  const parsed = new URL(url)
  assert.equal(parsed.pathname, '/b/o/d/batch/d/a.csv')
  assert.deepEqual([...parsed.searchParams.keys()], ['x-id'], 'no partNumber, no uploadId')
  assert.equal(parsed.searchParams.get('x-id'), 'PutObject')
  assert.equal(signedHeaders(headers),
    'content-md5;content-type;host;x-amz-acl;x-amz-content-sha256;x-amz-date;x-amz-meta-ckan-user;x-amz-security-token')
  assert.equal(headers['content-type'], 'text/csv')
  assert.equal(headers['x-amz-meta-ckan-user'], 'u1')
  assert.deepEqual(await sts.complete([{ part_number: 1, etag: '"x"' }]), { key: 'o/d/batch/d/a.csv' })
})
