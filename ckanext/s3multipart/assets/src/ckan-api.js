// CKAN's action API from a CKAN module: `this.sandbox.client`, which sends the CSRF token,
// as a promise of the action's result, its error as one line (errors.js).
import { ckanError } from './errors.js'

export function ckanApi (sandbox) {
  return (action, data) => new Promise((resolve, reject) => {
    sandbox.client.call('POST', action, JSON.parse(JSON.stringify(data)),
      (answer) => resolve(answer.result),
      (xhr) => reject(new Error(ckanError(xhr.responseJSON?.error, `${action} failed (${xhr.status})`))))
  })
}
