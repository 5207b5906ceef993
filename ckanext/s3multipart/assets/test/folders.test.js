// Names and system files as folders.py has them (system_files.json is the one list).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSystemFile, relativePath } from '../src/folders.js'

test('a relative path keeps its folders, without empty or . segments', () => {
  assert.equal(relativePath('survey\\2024/./01//day.csv '), 'survey/2024/01/day.csv')
  assert.equal(relativePath('Cafe\u0301.csv'), 'Caf\u00e9.csv') // NFC, as the server
  assert.equal(relativePath('./'), '')
})

test('system files: by name, by prefix, and anything in a system folder', () => {
  for (const name of ['a/.DS_Store', 'THUMBS.DB', 'x/desktop.ini', 'x/._day.csv', '__MACOSX/a/b.csv', 'd/~$report.docx']) {
    assert.ok(isSystemFile(name), name)
  }
  for (const name of ['a/b.csv', 'macosx/b.csv', 'x/.hidden.csv', 'DS_Store']) {
    assert.ok(!isSystemFile(name), name)
  }
})
