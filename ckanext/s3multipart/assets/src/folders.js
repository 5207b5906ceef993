// What a chosen or dropped folder's files are called in the dataset, and which to leave
// out: the rules of folders.py, on system_files.json, which both read.
import SYSTEM from '../../system_files.json' with { type: 'json' }

const NAMES = new Set(SYSTEM.names.map((n) => n.toLowerCase()))
const NAME_PREFIXES = SYSTEM.name_prefixes.map((p) => p.toLowerCase())
const FOLDERS = new Set(SYSTEM.folders.map((f) => f.toLowerCase()))

// 'survey\\2024/./01//day.csv ' -> 'survey/2024/01/day.csv' (as folders.relative_path).
export function relativePath (name) {
  return String(name || '').normalize('NFC').replace(/\\/g, '/').split('/')
    .map((segment) => segment.trim()).filter((s) => s !== '' && s !== '.').join('/')
}

// .DS_Store, Thumbs.db, ._x, anything in __MACOSX/ ... (as folders.is_system_file).
export function isSystemFile (name) {
  const segments = relativePath(name).toLowerCase().split('/')
  const file = segments.pop()
  return NAMES.has(file) || NAME_PREFIXES.some((p) => file.startsWith(p)) ||
    segments.some((folder) => FOLDERS.has(folder))
}

// The files of a drop, folders walked, as [{file, name}] ('name' from the dropped item:
// a dropped folder's own name first, as the folder input's webkitRelativePath has it).
export async function filesOfDrop (dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean)
  if (!entries.length) return [...dataTransfer.files].map((file) => ({ file, name: file.name }))
  const found = []
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject))
      found.push({ file, name: relativePath(entry.fullPath) })
      return
    }
    const reader = entry.createReader()
    // readEntries answers at most 100 at a time: read until it answers none.
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject))
      if (!batch.length) return
      for (const inner of batch) await walk(inner)
    }
  }
  for (const entry of entries) await walk(entry)
  return found
}

// The files of a file or folder input, as [{file, name}].
export function filesOfInput (input) {
  return [...input.files].map((file) => ({ file, name: relativePath(file.webkitRelativePath || file.name) }))
}
