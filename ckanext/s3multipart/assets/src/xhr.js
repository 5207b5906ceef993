// PUT one part's bytes (a Blob slice: read lazily by the browser, so memory stays flat)
// as its transport signed the request (transport.js: PartRequest), with XMLHttpRequest,
// the one browser API that reports upload progress. The headers carry the part's
// Content-MD5: the store refuses other bytes (BadDigest), and the signature covers it,
// so no one on the way can swap in other bytes with their own MD5. Resolves to the ETag.
import { s3Error } from './errors.js'
import { UploadError } from './retry.js'

function errorOf (xhr) {
  const text = xhr.responseText || ''
  const code = (text.match(/<Code>([^<]+)<\/Code>/) || [])[1] || ''
  const message = (text.match(/<Message>([^<]+)<\/Message>/) || [])[1] || xhr.statusText
  return new UploadError(s3Error(xhr.status, code, message), { status: xhr.status, code })
}

export function putPart ({ url, headers }, blob, { signal, onProgress = () => {}, timeout = 120000, XHR = globalThis.XMLHttpRequest } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const xhr = new XHR()
    xhr.open('PUT', url)
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    xhr.timeout = timeout
    xhr.upload.onprogress = (event) => onProgress(event.loaded)
    xhr.onload = () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(errorOf(xhr))
      const etag = xhr.getResponseHeader('ETag')
      if (!etag) {
        return reject(new UploadError(
          "S3 sent no ETag header: the bucket's CORS rule must expose ETag (ExposeHeaders)"))
      }
      onProgress(blob.size)
      resolve(etag)
    }
    xhr.onerror = () => reject(new UploadError('network error while sending a part', { network: true }))
    xhr.ontimeout = () => reject(new UploadError('a part took too long to send', { network: true }))
    signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.onabort = () => reject(signal?.reason || new DOMException('Upload cancelled', 'AbortError'))
    xhr.send(blob)
  })
}
