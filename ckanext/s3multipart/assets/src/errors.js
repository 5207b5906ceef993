// CKAN's and S3's errors as one line, worded as the server's and the publisher's client's
// (failures.ckan_error, failures.s3_error), and the lines for a file that changed.

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

// A part the store refused, every time it was sent, as not the bytes its Content-MD5
// names (BadDigest): what was read differs from what was hashed (retry_policy.json's
// digest_codes; the publisher's client says the same).
export function partKeepsChanging (part, tries, error) {
  return `part ${part} was refused ${tries} times as not the bytes read from the file ` +
    `(${error.message}): the file changed on disk or the disk is failing; check it, then ` +
    'choose the file again'
}

// The browser refused to read a file that changed after it was chosen.
export function unreadableFile (name) {
  return `${name} can no longer be read: the file changed on disk or the disk is failing; ` +
    'check it, then choose the file again'
}
