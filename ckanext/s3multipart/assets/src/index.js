import { register } from './module.js'

register(window.ckan, window.jQuery)
