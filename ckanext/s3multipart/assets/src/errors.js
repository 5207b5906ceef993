// CKAN's and S3's errors as one line, worded as the server's and the publisher's client's
// (failures.ckan_error, failures.s3_error).

// CKAN's error object as one line: the message, or `field: message` per field, nested
// resources included; `fallback` when it says nothing.
export function ckanError (error, fallback) {
  if (error?.message) return String(error.message)
  const parts = []
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      parts.push(path ? `${path}: ${value.join(' ')}` : value.join(' '))
    } else if (Array.isArray(value)) {
      for (const inner of value) walk(inner, path)
    } else if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) if (!name.startsWith('__')) walk(inner, name)
    } else if (value) {
      parts.push(`${path}: ${value}`)
    }
  }
  walk(error || {}, '')
  return parts.join('; ') || String(error?.__type || fallback || 'unknown error')
}

// An S3 error answer as one line.
export function s3Error (status, code, message) {
  return `S3 answered ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`
}
