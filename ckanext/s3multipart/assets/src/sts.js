// STS mode: CKAN hands out temporary credentials for one upload prefix; the AWS SDK
// signs every S3 call (and each part's presigned PUT URL) in the browser.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand,
  ListPartsCommand, S3Client, UploadPartCommand
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { CredentialCache } from './credentials.js'

const PART_URL_SECONDS = 900

/** @implements {import('./transport.js').Transport} */
export class StsTransport {
  constructor (api, { dataset, resource }) {
    this.api = api
    this.dataset = dataset
    this.resource = resource
  }

  // Credentials for a new upload, or for the saved upload's prefix when resuming.
  async begin (file, saved) {
    const answer = await this.api('s3multipart_credentials', {
      id: this.dataset,
      filename: file.name,
      content_type: file.type || undefined,
      prefix: saved?.prefix,
      resource_id: this.resource || undefined
    })
    this.settings = answer
    this.key = saved?.key || answer.key
    let first = answer.credentials
    this.credentials = new CredentialCache(async () => {
      if (first) { const c = first; first = null; return c }
      return (await this.api('s3multipart_credentials', { id: this.dataset, prefix: answer.prefix })).credentials
    })
    this.uploadId = saved?.uploadId
    if (!this.uploadId) {
      const created = await (await this.s3()).send(new CreateMultipartUploadCommand({
        Bucket: answer.bucket,
        Key: this.key,
        ContentType: answer.content_type, // the server's rule: media_types.content_type
        Metadata: answer.metadata,
        ...(answer.acl ? { ACL: answer.acl } : {})
      }))
      this.uploadId = created.UploadId
    }
    return {
      key: this.key,
      uploadId: this.uploadId,
      prefix: answer.prefix,
      partSize: answer.part_size,
      concurrency: answer.concurrency,
      maxSize: answer.max_size
    }
  }

  // A client holding the current credentials, rebuilt when they are renewed: the SDK
  // would otherwise keep signing with the identity it cached until that expires.
  async s3 () {
    const identity = await this.credentials.get()
    if (identity !== this.identity) {
      this.identity = identity
      this.client = new S3Client({
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

  // The PUT sends the part's Content-MD5 (xhr.js) and the store refuses other bytes
  // (BadDigest), but the URL does not sign it: Ceph RGW answers the CORS preflight of a
  // URL with a session token and a signed Content-MD5 with 403 SignatureDoesNotMatch (it
  // checks the signature of the OPTIONS request, which has no Content-MD5). Signing it
  // would guard nothing here anyway: the page holds credentials that may sign any bytes.
  // (Presigned mode signs it: there the URL is all the page holds.)
  async partUrl (number) {
    return getSignedUrl(await this.s3(), new UploadPartCommand({
      Bucket: this.settings.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: number
    }), { expiresIn: PART_URL_SECONDS })
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
