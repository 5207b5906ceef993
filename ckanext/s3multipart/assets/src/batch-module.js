// The CKAN module of the "Upload files" page: wires its inputs, drop zone and buttons
// to a Batch (batch.js) and renders one row per file. No upload logic here. Rows are
// made a few hundred per frame and repainted on a timer, so 10,000 queued files keep
// the page responsive.
import { ckanApi } from './ckan-api.js'
import { Batch } from './batch.js'
import { filesOfDrop, filesOfInput } from './folders.js'
import { inWorker } from './hasher.js'
import { MultipartUpload } from './multipart.js'
import { PresignedTransport } from './presigned.js'
import { Progress, formatBytes, formatSeconds } from './progress.js'
import { StsTransport, prefixCredentials } from './sts.js'
import { UploadStore } from './store.js'

const ROWS_PER_FRAME = 250
const FILES_PER_TASK = 100
const PAINTS_PER_FRAME = 100
const REPAINT_EVERY = 500 // ms

export function registerBatch (ckan, $) {
  ckan.module('s3multipart-batch', function () {
    return {
      options: { dataset: null, mode: 'sts', maxSize: 0, filesConcurrency: 2, present: [] },

      initialize () {
        $.proxyAll(this, /_on/)
        const root = this.el[0]
        this.list = root.querySelector('.s3multipart-file-list')
        this.overall = root.querySelector('.s3multipart-overall')
        this.bar = root.querySelector('[role=progressbar]')
        this.summary = root.querySelector('.s3multipart-summary')
        this.buttons = {
          pause: root.querySelector('.s3multipart-pause'),
          resume: root.querySelector('.s3multipart-resume'),
          cancel: root.querySelector('.s3multipart-cancel')
        }
        this.rows = new Map() // item id -> row element
        this.unrendered = []
        this.dirty = new Set()
        this.meter = new Progress(0)
        this.batch = new Batch({
          api: this.api.bind(this),
          dataset: this.options.dataset,
          present: new Map(this.options.present || []),
          filesConcurrency: Number(this.options.filesConcurrency) || 2,
          uploader: this.uploader.bind(this),
          credentials: async (prefix) => prefixCredentials(this.api.bind(this), this.options.dataset,
            await this.api('s3multipart_credentials', { id: this.options.dataset, prefix })),
          onChange: (item) => this.dirty.add(item),
          onIdle: this._onIdle
        })
        for (const input of root.querySelectorAll('input[type=file]')) {
          input.addEventListener('change', () => { this._onFiles(filesOfInput(input)); input.value = '' })
        }
        root.addEventListener('dragover', (event) => { event.preventDefault(); root.classList.add('s3multipart-dragging') })
        root.addEventListener('dragleave', () => root.classList.remove('s3multipart-dragging'))
        root.addEventListener('drop', this._onDrop)
        this.buttons.pause.addEventListener('click', this._onPause)
        this.buttons.resume.addEventListener('click', this._onResume)
        this.buttons.cancel.addEventListener('click', this._onCancel)
        this.list.addEventListener('click', this._onRetry)
        root.classList.add('s3multipart-ready') // for automation: files may be chosen now
      },

      api (action, data) {
        return ckanApi(this.sandbox)(action, data)
      },

      uploader (item, placement) {
        const Transport = this.options.mode === 'presigned' ? PresignedTransport : StsTransport
        return new MultipartUpload({
          transport: new Transport(this.api.bind(this), { dataset: this.options.dataset, placement }),
          store: new UploadStore(this.options.dataset, globalThis.localStorage, item.name),
          hash: inWorker,
          maxSize: Number(this.options.maxSize) || 0,
          onProgress: (p) => { item.loaded = p.loaded; this.dirty.add(item) },
          onRetry: (error, part, tries) => window.console?.warn(`s3multipart: ${item.name} part ${part} failed (${error.message}); retry ${tries}`)
        })
      },

      // A few hundred files per task: a chosen file's size is read from the disk the first
      // time it is asked for, so 10,000 at once would freeze the page for seconds.
      async _onFiles (files) {
        if (!files.length) return
        this.overall.hidden = false
        this.el[0].classList.add('s3multipart-active')
        for (let i = 0; i < files.length; i += FILES_PER_TASK) {
          this._keepPainting() // each chunk: one of skipped files alone idles the batch
          this.unrendered.push(...this.batch.add(files.slice(i, i + FILES_PER_TASK)))
          this._renderSome()
          await new Promise((resolve) => setTimeout(resolve, 0))
        }
        this._onRepaint()
      },

      async _onDrop (event) {
        event.preventDefault()
        this.el[0].classList.remove('s3multipart-dragging')
        try {
          this._onFiles(await filesOfDrop(event.dataTransfer))
        } catch (error) {
          this.summary.textContent = this._('The dropped files cannot be read: %(error)s', { error: error.message })
        }
      },

      // A few hundred rows per frame: one long task would freeze the page.
      _renderSome () {
        if (this.rendering) return
        this.rendering = true
        const step = () => {
          const fragment = document.createDocumentFragment()
          for (const item of this.unrendered.splice(0, ROWS_PER_FRAME)) fragment.append(this._row(item))
          this.list.append(fragment)
          if (this.unrendered.length) requestAnimationFrame(step)
          else this.rendering = false
        }
        requestAnimationFrame(step)
      },

      _row (item) {
        const row = document.createElement('li')
        row.className = 's3multipart-file'
        row.setAttribute('data-s3multipart-file', '')
        row.dataset.name = item.name
        const name = document.createElement('span')
        name.className = 's3multipart-file-name'
        name.textContent = item.name
        const size = document.createElement('span')
        size.className = 's3multipart-file-size text-muted'
        size.textContent = formatBytes(item.size)
        const status = document.createElement('span')
        status.className = 's3multipart-file-status'
        const retry = document.createElement('button')
        retry.type = 'button'
        retry.className = 'btn btn-default btn-xs btn-sm s3multipart-retry'
        retry.textContent = this._('Retry')
        retry.dataset.item = String(item.id)
        row.append(name, ' ', size, ' ', status, ' ', retry)
        this.rows.set(item.id, { row, status, retry })
        this._paint(item)
        return row
      },

      _paint (item) {
        const made = this.rows.get(item.id)
        if (!made) return // not made yet: it is made with the item's state then
        const { row, status, retry } = made
        row.dataset.state = item.state
        const percent = item.size ? Math.floor(item.loaded * 100 / item.size) : 0
        const text = {
          queued: this._('queued'),
          uploading: item.message || this._('%(percent)s%%', { percent }),
          paused: this._('paused at %(percent)s%%', { percent }),
          done: this._('done'),
          skipped: this._('skipped: %(why)s', { why: item.message }),
          failed: this._('failed: %(why)s', { why: item.message })
        }[item.state]
        status.textContent = text
        retry.hidden = item.state !== 'failed' || item.duplicate
      },

      _onRepaint () {
        // At most PAINTS_PER_FRAME rows a frame: a Cancel of 10,000 files repaints them all.
        let painted = 0
        for (const item of this.dirty) {
          if (painted++ >= PAINTS_PER_FRAME) break
          this._paint(item)
          this.dirty.delete(item)
        }
        if (this.dirty.size && !this.painting) {
          this.painting = requestAnimationFrame(() => { this.painting = null; this._onRepaint() })
        }
        const t = this.batch.totals()
        this.meter.total = t.total
        this.meter.partLoaded(0, t.loaded) // the whole batch as one "part in flight"
        const p = this.meter.snapshot()
        this.bar.setAttribute('aria-valuenow', String(p.percent))
        this.bar.style.width = `${p.percent}%`
        this.bar.textContent = `${p.percent}%`
        const skipped = this.batch.items.length - t.files
        this.summary.textContent = this._('%(done)s of %(files)s files, %(loaded)s of %(total)s, %(speed)s/s, %(left)s left', {
          done: t.done,
          files: t.files,
          loaded: formatBytes(p.loaded),
          total: formatBytes(p.total),
          speed: formatBytes(Math.round(p.speed)),
          left: formatSeconds(p.secondsLeft)
        }) + (skipped ? ' ' + this._('(%(skipped)s skipped)', { skipped }) : '')
        const busy = this.batch.running.size > 0 || this.batch.queue.length > 0
        this.buttons.pause.hidden = this.batch.paused || !busy
        this.buttons.resume.hidden = !this.batch.paused || this.batch.cancelling
        this.buttons.cancel.hidden = !busy && !this.batch.paused
      },

      // Repaint every REPAINT_EVERY ms while files are queued, running or paused.
      _keepPainting () {
        if (!this.timer) this.timer = setInterval(this._onRepaint, REPAINT_EVERY)
      },

      _onIdle () {
        this._onRepaint()
        if (!this.batch.paused && this.timer) {
          clearInterval(this.timer)
          this.timer = null
        }
      },

      _onPause () {
        this.batch.pause()
        this._onRepaint()
      },

      _onResume () {
        this.batch.resume()
        this._keepPainting()
        this._onRepaint()
      },

      async _onCancel () {
        this.buttons.cancel.disabled = true
        try {
          await this.batch.cancel()
        } finally {
          this.buttons.cancel.disabled = false
          this._onRepaint()
        }
      },

      _onRetry (event) {
        const button = event.target.closest('.s3multipart-retry')
        if (!button) return
        this.batch.retry(this.batch.items[Number(button.dataset.item)])
        this._keepPainting()
        this._onRepaint()
      }
    }
  })
}
