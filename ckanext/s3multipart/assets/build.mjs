// Builds the one minified bundle CKAN serves (assets/dist/s3multipart.js): npm run build
import { build } from 'esbuild'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const target = ['es2020']

// `import SOURCE from 'worker-source:./x.js'` gives x.js bundled on its own, as a string:
// the Web Worker (hasher.js) starts from a Blob URL of it, so CKAN still serves one file.
const workerSource = {
  name: 'worker-source',
  setup (esbuild) {
    esbuild.onResolve({ filter: /^worker-source:/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.slice('worker-source:'.length)),
      namespace: 'worker-source'
    }))
    esbuild.onLoad({ filter: /.*/, namespace: 'worker-source' }, async (args) => {
      const worker = await build({
        entryPoints: [args.path], bundle: true, minify: true, format: 'iife', target,
        legalComments: 'inline', write: false, metafile: true, logLevel: 'silent'
      })
      return {
        contents: `export default ${JSON.stringify(worker.outputFiles[0].text)}`,
        loader: 'js',
        watchFiles: Object.keys(worker.metafile.inputs).map((input) => path.resolve(input))
      }
    })
  }
}

export const options = {
  entryPoints: [here('src/index.js')],
  outfile: here('dist/s3multipart.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target,
  legalComments: 'linked',
  plugins: [workerSource],
  logLevel: 'info'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build(options)
