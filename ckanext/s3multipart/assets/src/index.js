// The bundle's entry point: registers the CKAN modules on the page: the resource form's
// "Large file" widget (module.js) and the "Upload files" page (batch-module.js).
import { register } from './module.js'
import { registerBatch } from './batch-module.js'

register(window.ckan, window.jQuery)
registerBatch(window.ckan, window.jQuery)
