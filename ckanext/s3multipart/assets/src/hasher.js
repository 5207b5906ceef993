// Runs digest.js in a Web Worker, off the page's thread (a HashRunner for digests.js;
// the workers' keeping and watching: hash-workers.js). CKAN's webassets serve one file,
// so build.mjs bundles the worker (digest-worker.js, hash-wasm included, its WASM inlined)
// into a string that this module starts from a Blob URL: no second asset, no URL to
// configure. A site whose Content-Security-Policy is strict must allow `worker-src blob:`
// and `'wasm-unsafe-eval'`.
import WORKER_SOURCE from 'worker-source:./digest-worker.js'
import { hashWorkers } from './hash-workers.js'

let workerUrl = null

/** @type {import('./digests.js').HashRunner} */
export const inWorker = hashWorkers(() => {
  workerUrl = workerUrl || URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }))
  return new Worker(workerUrl)
})
