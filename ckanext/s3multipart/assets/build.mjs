// Builds the one minified bundle CKAN serves (assets/dist/s3multipart.js): npm run build
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

export const options = {
  entryPoints: [here('src/index.js')],
  outfile: here('dist/s3multipart.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'info'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(options)
