// STS mode: CKAN hands out temporary credentials for one upload prefix; the AWS SDK
// signs every S3 call in the browser, each part's PUT for its Content-MD5 included.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand,
  ListPartsCommand, PutObjectCommand, S3Client, UploadPartCommand
} from '@aws-sdk/client-s3'
import { formatUrl } from '@aws-sdk/core/util'
import { CredentialCache } from './credentials.js'

// What a part's PUT signs besides x-amz-content-sha256 (set by signedOnly) and the
// x-amz-date and (with session credentials) x-amz-security-token the signer adds: not
// the SDK's bookkeeping headers, which would each need a place in the bucket's CORS rule
// (sts_headers.json). A whole file's PUT signs its object's headers too, the ones
// CreateMultipartUpload sends for a file of many parts.
const PART_SIGNS = new Set(['host', 'content-md5'])
const signsForObject = (name) => name === 'content-type' || name === 'x-amz-acl' || name.startsWith('x-amz-meta-')

// Make `command` resolve to its signed request instead of sending it: its headers cut
// to what it signs (`keep`) before the SDK's signing step, the signed request taken
// right after it.
function signedOnly (command, keep = (name) => PART_SIGNS.has(name)) {
  command.middlewareStack.addRelativeTo((next) => (args) => {
    const headers = args.request.headers
    for (const name of Object.keys(headers)) {
      if (!keep(name.toLowerCase())) delete headers[name]
    }
    headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
    return next(args)
  }, { name: 's3multipartPartHeaders', relation: 'before', toMiddleware: 'httpSigningMiddleware' })
  command.middlewareStack.addRelativeTo(() => async (args) => (
    { response: {}, output: { $metadata: {}, request: args.request } }
  ), { name: 's3multipartSignedOnly', relation: 'after', toMiddleware: 'httpSigningMiddleware' })
}

// Credentials of one prefix that renew themselves, from a first answer of
// s3multipart_credentials: {answer, cache}. A batch shares one for all its files.
export function prefixCredentials (api, dataset, answer) {
  let first = answer.credentials
  const cache = new CredentialCache(async () => {
    if (first) { const c = first; first = null; return c }
    return (await api('s3multipart_credentials', { id: dataset, prefix: answer.prefix })).credentials
  })
  return { answer, cache }
}

/** @implements {import('./transport.js').Transport} */
export class StsTransport {
  // `placement` (a batch's file): {name, plan: {key, content_type}, credentials(prefix)},
  // whose credentials are the batch's, not this file's own.
  constructor (api, { dataset, resource, placement }) {
    this.api = api
    this.dataset = dataset
    this.resource = resource
    this.placement = placement
  }

  // Credentials for a new upload, or for the saved upload's prefix when resuming. A file
  // of one part goes in one PutObject (`single`): a multipart upload would cost it two
  // more requests and their CORS preflights, which is most of a small file's time.
  async begin (file, saved) {
    const { answer, cache } = this.placement
      ? await this.placement.credentials(saved?.prefix)
      : prefixCredentials(this.api, this.dataset, await this.api('s3multipart_credentials', {
        id: this.dataset,
        filename: file.name,
        content_type: file.type || undefined,
        prefix: saved?.prefix,
        resource_id: this.resource || undefined
      }))
    this.settings = answer
    this.key = saved?.key || (this.placement ? this.placement.plan.key : answer.key)
    this.credentials = cache
    this.uploadId = saved?.uploadId
    this.single = !saved && file.size <= answer.part_size
    if (!this.uploadId && !this.single) {
      const created = await (await this.s3()).send(new CreateMultipartUploadCommand({
        Bucket: answer.bucket, Key: this.key, ...this.objectHeaders()
      }))
      this.uploadId = created.UploadId
    }
    return {
      key: this.key,
      uploadId: this.uploadId,
      single: this.single,
      prefix: answer.prefix,
      partSize: answer.part_size,
      concurrency: answer.concurrency,
      maxSize: answer.max_size
    }
  }

  // A client holding the current credentials, rebuilt when they are renewed: the SDK
  // would otherwise keep signing with the identity it cached until that expires. The
  // clock offset the old client learnt (from a RequestTimeTooSkewed answer) goes over:
  // the part PUTs, signed here but sent by xhr.js, could not teach it to a new one.
  async s3 () {
    const identity = await this.credentials.get()
    if (identity !== this.identity) {
      this.identity = identity
      this.client = new S3Client({
        systemClockOffset: this.client?.config.systemClockOffset ?? 0,
        region: this.settings.region,
        endpoint: this.settings.endpoint_url || undefined,
        forcePathStyle: this.settings.addressing_style === 'path',
        credentials: identity,
        // R2 and B2 reject the SDK's default CRC32 header; Blob bodies need it off too.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED'
      })
    }
    return this.client
  }

  // The object's media type (the server's rule, media_types.content_type, for this file
  // or the batch's), metadata and ACL.
  objectHeaders () {
    const answer = this.settings
    return {
      ContentType: this.placement ? this.placement.plan.content_type : answer.content_type,
      Metadata: answer.metadata,
      ...(answer.acl ? { ACL: answer.acl } : {})
    }
  }

  // The part's PUT as the SDK would send it, signed in its headers (SigV4) with the
  // part's Content-MD5 among them, then handed to xhr.js for its upload progress: the
  // SDK's own send stops right after signing (see signedOnly). The body's SHA-256 is not
  // signed (UNSIGNED-PAYLOAD: that would read each part twice); its MD5 is, and the store
  // checks it. Signed in headers, not in the URL's query: Ceph RGW checks a query
  // signature on the CORS preflight too, which has no Content-MD5 to match.
  async partRequest (number, md5s) {
    // Without it the SDK would sign, and the store take, a part it cannot check.
    if (!md5s.has(number)) throw new Error(`part ${number} is not hashed yet`)
    const where = { Bucket: this.settings.bucket, Key: this.key, ContentMD5: md5s.get(number) }
    let command
    if (this.single) {
      command = new PutObjectCommand({ ...where, ...this.objectHeaders() })
      signedOnly(command, (name) => PART_SIGNS.has(name) || signsForObject(name))
    } else {
      command = new UploadPartCommand({ ...where, UploadId: this.uploadId, PartNumber: number })
      signedOnly(command)
    }
    const { request } = await (await this.s3()).send(command)
    const { host, ...headers } = request.headers
    return { url: formatUrl(request), headers }
  }

  // Expired credentials: fetch new ones for the same prefix.
  async refresh () {
    await this.credentials.get(true)
  }

  async listParts () {
    const parts = []
    let marker
    for (;;) {
      const page = await (await this.s3()).send(new ListPartsCommand({
        Bucket: this.settings.bucket, Key: this.key, UploadId: this.uploadId, PartNumberMarker: marker
      }))
      for (const p of page.Parts || []) parts.push({ part_number: p.PartNumber, etag: p.ETag, size: p.Size })
      if (!page.IsTruncated) return parts
      marker = page.NextPartNumberMarker
    }
  }

  async complete (parts) {
    if (this.single) return { key: this.key } // the PUT made the object
    await (await this.s3()).send(new CompleteMultipartUploadCommand({
      Bucket: this.settings.bucket,
      Key: this.key,
      UploadId: this.uploadId,
      MultipartUpload: { Parts: parts.map(p => ({ PartNumber: p.part_number, ETag: p.etag })) }
    }))
    return { key: this.key }
  }

  async abort () {
    if (this.uploadId) {
      await (await this.s3()).send(new AbortMultipartUploadCommand({
        Bucket: this.settings.bucket, Key: this.key, UploadId: this.uploadId
      }))
    }
  }
}
