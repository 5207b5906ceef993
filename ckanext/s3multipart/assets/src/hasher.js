// Runs digest.js in a Web Worker, off the page's thread (a HashRunner for digests.js).
// CKAN's webassets serve one file, so build.mjs bundles the worker (digest-worker.js,
// hash-wasm included, its WASM inlined) into a string that this module starts from a
// Blob URL: no second asset, no URL to configure. A site whose Content-Security-Policy
// is strict must allow `worker-src blob:` and `'wasm-unsafe-eval'`.
import WORKER_SOURCE from 'worker-source:./digest-worker.js'
import { unreadableFile } from './errors.js'
import { UploadError } from './retry.js'

let workerUrl = null
// Workers that hashed a whole file, kept for the next: a folder of 1,000 small files
// would otherwise start (and compile hash-wasm's WebAssembly in) 1,000 workers.
const idle = []
const MAX_IDLE = 4

/** @type {import('./digests.js').HashRunner} */
export function inWorker (file, plan, onPart) {
  workerUrl = workerUrl || URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }))
  const worker = idle.pop() || new Worker(workerUrl)
  let finished = false
  const promise = new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.sha256) {
        finished = true
        resolve(data.sha256)
      } else if (data.error) {
        reject(new UploadError(data.changed ? unreadableFile(file.name) : `could not hash ${file.name}: ${data.error}`))
      } else {
        onPart(data)
      }
    }
    worker.onerror = (event) => reject(new UploadError(`the checksum worker failed: ${event.message || 'unknown error'}`))
  })
  // Done with its file, a worker waits for the next; one stopped half way is ended.
  promise.then(() => { if (idle.length < MAX_IDLE) idle.push(worker); else worker.terminate() },
    () => worker.terminate())
  worker.postMessage({ file, plan })
  return { promise, stop: () => { if (!finished) worker.terminate() } }
}
