// Remembers unfinished uploads in localStorage, so that choosing the same file again
// after a reload or a crash resumes the upload instead of starting over.
// A file of a batch is known by its path in the batch (`name`): two folders can each
// hold a `day.csv` of the same size and time. Its records are apart from the resource
// form's: a file sent there and then in a batch would resume into the wrong place.
export class UploadStore {
  constructor (dataset, storage = globalThis.localStorage, name = null) {
    this.dataset = dataset
    this.storage = storage
    this.name = name
  }

  keyFor (file) {
    const name = this.name === null ? file.name : `batch/${this.name}`
    return `s3multipart:${this.dataset}:${name}:${file.size}:${file.lastModified}`
  }

  load (file) {
    try {
      return JSON.parse(this.storage.getItem(this.keyFor(file)) || 'null')
    } catch {
      return null
    }
  }

  save (file, state) {
    try {
      this.storage.setItem(this.keyFor(file), JSON.stringify(state))
    } catch {
      // Private mode or a full quota: the upload still works, it just cannot resume.
    }
  }

  clear (file) {
    try { this.storage.removeItem(this.keyFor(file)) } catch {}
  }
}
