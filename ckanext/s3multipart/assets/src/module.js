// The CKAN module: wires the "Large file" widget of the resource form to the
// MultipartUpload. No upload logic here. API calls go through CKAN's client, which sends
// the CSRF token; credentials only ever live in this page's memory.
import { ckanApi } from './ckan-api.js'
import { inWorker } from './hasher.js'
import { MultipartUpload } from './multipart.js'
import { StsTransport } from './sts.js'
import { PresignedTransport } from './presigned.js'
import { UploadStore } from './store.js'
import { formatBytes, formatSeconds } from './progress.js'

export function register (ckan, $) {
  ckan.module('s3multipart', function () {
    return {
      options: { dataset: null, resource: null, mode: 'sts', maxSize: 0 },

      initialize () {
        $.proxyAll(this, /_on/)
        this.input = this.el.find('input[type=file]')
        this.bar = this.el.find('[role=progressbar]')
        this.status = this.el.find('.s3multipart-status')
        this.cancelButton = this.el.find('.s3multipart-cancel')
        this.keyInput = this.el.find('input[name=s3_key]')
        // The file's SHA-256, saved as CKAN's own `hash` of the resource.
        this.hashInput = this.el.find('input[name=hash]')
        this.algorithmInput = this.el.find('input[name=hash_algorithm]')
        this.form = this.el.closest('form')
        this.input.on('change', this._onChoose)
        this.cancelButton.on('click', this._onCancel)
        this.form.on('submit', this._onSubmit)
      },

      api (action, data) {
        return ckanApi(this.sandbox)(action, data)
      },

      uploader () {
        const Transport = this.options.mode === 'presigned' ? PresignedTransport : StsTransport
        const transport = new Transport(this.api.bind(this), {
          dataset: this.options.dataset, resource: this.options.resource
        })
        return new MultipartUpload({
          transport,
          store: new UploadStore(this.options.dataset),
          hash: inWorker,
          maxSize: Number(this.options.maxSize) || 0,
          onProgress: this._onProgress,
          onRetry: this._onRetry,
          onStatus: this._onStatus
        })
      },

      async _onChoose () {
        const file = this.input[0].files[0]
        if (!file) return
        this.keyInput.val('')
        this.hashInput.val('')
        this.algorithmInput.val('')
        this.current = this.uploader()
        this.el.addClass('s3multipart-uploading').removeClass('s3multipart-done s3multipart-failed')
        this.el.find('.progress').prop('hidden', false)
        this.cancelButton.prop('hidden', false).prop('disabled', false)
        this.input.prop('disabled', true)
        this._say(this._('Starting upload of %(name)s…', { name: file.name }))
        try {
          const result = await this.current.upload(file)
          this._finish(file, result)
        } catch (error) {
          if (error?.name === 'AbortError') {
            this._say(this._('Upload cancelled.'))
          } else {
            window.console?.error('s3multipart: upload failed', error)
            this.el.addClass('s3multipart-failed')
            this._say(this._('Upload failed: %(error)s', { error: error?.message || String(error) }), true)
          }
        } finally {
          this.el.removeClass('s3multipart-uploading')
          this.cancelButton.prop('hidden', true)
          this.input.prop('disabled', false)
          this.current = null
        }
      },

      _finish (file, result) {
        this.keyInput.val(result.key)
        this.hashInput.val(result.sha256)
        this.algorithmInput.val('sha256')
        const name = result.key.split('/').pop()
        const form = this.form
        const url = form.find('#field-resource-url')
        url.attr('type', 'text').val(name)
        if (!form.find('input[name=name]').val()) form.find('input[name=name]').val(name)
        const format = form.find('input[name=format]')
        const extension = (name.match(/\.([A-Za-z0-9]{1,10})$/) || [])[1]
        if (!format.val() && extension) format.val(extension.toUpperCase()).trigger('change')
        this.el.addClass('s3multipart-done')
        this._setBar(100)
        this._say(this._('Uploaded %(name)s (%(size)s). Save to keep it.', { name, size: formatBytes(file.size) }))
      },

      async _onCancel () {
        if (!this.current) return
        this.cancelButton.prop('disabled', true)
        this._say(this._('Cancelling…'))
        try {
          await this.current.cancel()
        } catch (error) {
          this._say(this._('Could not abort the upload on S3: %(error)s', { error: error.message }), true)
        }
      },

      _onSubmit (event) {
        if (this.current) {
          event.preventDefault()
          this._say(this._('Wait for the upload to finish (or cancel it) before saving.'), true)
        }
      },

      _onProgress (p) {
        this._setBar(p.percent)
        this._say(this._('%(percent)s%% — %(loaded)s of %(total)s, %(speed)s/s, %(left)s left', {
          percent: p.percent,
          loaded: formatBytes(p.loaded),
          total: formatBytes(p.total),
          speed: formatBytes(Math.round(p.speed)),
          left: formatSeconds(p.secondsLeft)
        }))
      },

      _onRetry (error, part, tries) {
        this.el.attr('data-retries', (Number(this.el.attr('data-retries')) || 0) + 1)
        window.console?.warn(`s3multipart: part ${part} failed (${error.message}); retry ${tries}`)
      },

      _onStatus (state, details) {
        if (state === 'resuming') {
          this._say(this._('Resuming: %(parts)s parts were already uploaded.', { parts: details.parts }))
        } else if (state === 'completing') {
          this._say(this._('Completing the upload…'))
        }
      },

      _setBar (percent) {
        this.bar.attr('aria-valuenow', percent).css('width', `${percent}%`).text(`${percent}%`)
      },

      _say (text, isError = false) {
        this.status.text(text).toggleClass('text-danger', isError)
      }
    }
  })
}
