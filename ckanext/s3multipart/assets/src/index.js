// The bundle's entry point: registers the CKAN module (module.js) on the page.
import { register } from './module.js'

register(window.ckan, window.jQuery)
