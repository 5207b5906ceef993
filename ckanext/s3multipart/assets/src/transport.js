// The contract between the MultipartUpload (multipart.js) and the two ways of talking to S3:
// StsTransport (sts.js: the browser's AWS SDK with credentials from CKAN) and
// PresignedTransport (presigned.js: CKAN signs every part URL). Types only; nothing runs.

/**
 * One multipart upload, as `begin` answers it and the MultipartUpload saves it for resume.
 * @typedef {object} Session
 * @property {string} key            the object key
 * @property {string} uploadId       the multipart upload's id
 * @property {number} [partSize]     bytes per part (the last may be shorter)
 * @property {number} [partCount]    presigned mode: the server's plan
 * @property {number} [concurrency]  parts in flight at once (the site's setting)
 * @property {string} [prefix]       STS mode: the upload prefix the credentials cover
 * @property {number} [maxSize]      STS mode: the site's largest file, in bytes
 */

/**
 * A part as the store lists it (`listParts`) or as `complete` takes it.
 * @typedef {object} Part
 * @property {number} part_number
 * @property {string} etag
 * @property {number} [size]
 */

/**
 * A part's PUT as xhr.js sends it: the URL and the request headers, Content-MD5 among
 * them, that its signature covers (the browser adds Host and Content-Length).
 * @typedef {object} PartRequest
 * @property {string} url
 * @property {Record<string, string>} headers
 */

/**
 * @typedef {object} Transport
 * @property {(file: File, saved?: Session) => Promise<Session>} begin
 *   Start a multipart upload of `file`, or take up the saved one (resume).
 * @property {(number: number, md5s: Map<number, string>) => Promise<PartRequest>} partRequest
 *   The signed PUT of part `number`, for its Content-MD5, made for one request.
 *   `md5s`: the Content-MD5 (base64) of every part hashed and still to send, `number`'s
 *   included: PresignedTransport has CKAN sign each URL for its part's MD5, the next
 *   ones ahead in the same request; StsTransport signs the headers with the SDK.
 * @property {(error?: Error) => Promise<void>} refresh
 *   After an expired or refused URL or credentials: the next partRequest() is freshly made.
 * @property {() => Promise<Part[]>} listParts
 *   The parts the store already holds (resume trusts nothing else).
 * @property {(parts: Part[]) => Promise<{key: string}>} complete
 *   Join the parts into the object.
 * @property {() => Promise<void>} abort
 *   Drop the upload and its parts (Cancel); nothing to do before `begin`.
 */

export {}
