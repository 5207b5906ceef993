// Presigned mode: CKAN creates, signs, lists, completes and aborts the multipart
// upload; the browser only PUTs parts to the URLs it is given. No credentials here.
const SIGN_BATCH = 16

/** @implements {import('./transport.js').Transport} */
export class PresignedTransport {
  // `placement` (a batch's file): {name, prefix}: the file starts at its place in the batch.
  constructor (api, { dataset, resource, placement }) {
    this.api = api
    this.dataset = dataset
    this.resource = resource
    this.placement = placement
    this.urls = new Map()
    this.signing = new Map()
    this.used = new Set() // parts whose URL went out: a batch signs them again only if asked
  }

  ids () {
    return { id: this.dataset, key: this.key, upload_id: this.uploadId }
  }

  async begin (file, saved) {
    this.urls.clear()
    this.used.clear()
    if (saved) {
      Object.assign(this, { key: saved.key, uploadId: saved.uploadId, partCount: saved.partCount })
      return { ...saved }
    }
    const started = await this.api('s3multipart_upload_start', {
      id: this.dataset,
      filename: this.placement?.name ?? file.name,
      size: file.size,
      content_type: file.type || undefined,
      resource_id: this.resource || undefined,
      prefix: this.placement?.prefix
    })
    Object.assign(this, { key: started.key, uploadId: started.upload_id, partCount: started.part_count })
    return {
      key: started.key,
      uploadId: started.upload_id,
      partSize: started.part_size,
      partCount: started.part_count,
      concurrency: started.concurrency
    }
  }

  // URLs are signed in batches to keep CKAN requests few: the part asked for and the next
  // parts already hashed (`md5s`) that have no URL yet. Each URL is signed for its part's
  // Content-MD5, so it takes no other bytes. A batch being signed is shared by every part
  // it covers; a URL is used once.
  async partRequest (number, md5s) {
    if (!this.urls.has(number)) {
      if (!this.signing.has(number)) this.signBatchFrom(number, md5s)
      await this.signing.get(number)
    }
    const url = this.urls.get(number)
    this.urls.delete(number)
    this.used.add(number)
    return { url, headers: { 'Content-MD5': md5s.get(number) } }
  }

  signBatchFrom (number, md5s) {
    if (!md5s.has(number)) throw new Error(`part ${number} is not hashed yet`)
    const wanted = [number]
    for (let n = number + 1; n < number + SIGN_BATCH && n <= this.partCount; n++) {
      if (md5s.has(n) && !this.urls.has(n) && !this.signing.has(n) && !this.used.has(n)) wanted.push(n)
    }
    const parts = wanted.map((n) => ({ part_number: n, content_md5: md5s.get(n) }))
    const batch = this.api('s3multipart_upload_sign', { ...this.ids(), parts })
      .then((signed) => {
        for (const [n, url] of Object.entries(signed.urls)) this.urls.set(Number(n), url)
      })
      .finally(() => { for (const n of wanted) this.signing.delete(n) })
    for (const n of wanted) this.signing.set(n, batch)
  }

  // An expired URL: the next partRequest() signs a fresh one.
  async refresh () {
    this.urls.clear()
  }

  async listParts () {
    return (await this.api('s3multipart_upload_list_parts', this.ids())).parts
  }

  async complete (parts) {
    return this.api('s3multipart_upload_complete', { ...this.ids(), parts })
  }

  async abort () {
    if (this.uploadId) await this.api('s3multipart_upload_abort', this.ids())
  }
}
