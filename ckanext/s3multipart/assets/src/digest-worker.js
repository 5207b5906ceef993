// The Web Worker that runs digest.js off the page's thread. Built by build.mjs into a
// string the bundle starts from a Blob URL (digests.js); no CKAN, no DOM here.
// In: {file, plan}. Out: {part, hex, base64} per part in order, then {sha256} or {error};
// {alive: true} at most once a second while reading, for the page's watch (hash-workers.js).
import { digestFile } from './digest.js'

self.onmessage = async ({ data: { file, plan } }) => {
  let said = Date.now()
  const onChunk = () => {
    if (Date.now() - said >= 1000) {
      said = Date.now()
      self.postMessage({ alive: true })
    }
  }
  try {
    const sha256 = await digestFile(file, plan, { onPart: (digest) => self.postMessage(digest), onChunk })
    self.postMessage({ sha256 })
  } catch (error) {
    // Chrome and Firefox refuse to read a File that changed after it was chosen.
    const changed = error?.name === 'NotReadableError'
    self.postMessage({ error: String(error?.message || error), changed })
  }
}
