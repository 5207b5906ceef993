// The committed bundle is what the sources build to (CKAN serves the committed file).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { options } from '../build.mjs'

test('dist/s3multipart.js is up to date with src/ (run npm run build)', async () => {
  const result = await build({ ...options, write: false, logLevel: 'silent' })
  const fresh = result.outputFiles.find(f => f.path.endsWith('s3multipart.js')).text
  assert.equal(readFileSync(options.outfile, 'utf8'), fresh)
})
