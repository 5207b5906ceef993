// STS mode's part URLs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StsTransport } from '../src/sts.js'
import { CredentialCache } from '../src/credentials.js'

test('a part URL signs only the host: Ceph RGW refuses the preflight of more', async () => {
  const transport = new StsTransport(async () => ({}), { dataset: 'd' })
  Object.assign(transport, {
    settings: { region: 'us-east-1', endpoint_url: 'http://127.0.0.1:9', addressing_style: 'path', bucket: 'b' },
    key: 'org/ds/u/f.bin',
    uploadId: 'up-1',
    credentials: new CredentialCache(async () => ({
      AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'ST', Expiration: new Date(Date.now() + 3600e3).toISOString()
    }))
  })
  const url = new URL(await transport.partUrl(3, new Map([[3, '1B2M2Y8AsgTpgAmY7PhCfg==']])))
  assert.equal(url.searchParams.get('partNumber'), '3')
  assert.equal(url.searchParams.get('X-Amz-SignedHeaders'), 'host')
  assert.equal(url.searchParams.get('X-Amz-Security-Token'), 'ST')
})
