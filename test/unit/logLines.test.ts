import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, splitLines } from '../../src/core/log/lines';

const texts = (s: LineSplitter, chunks: (string | Uint8Array)[]) => [...chunks.flatMap((c) => s.push(c)), ...s.end()].map((l) => l.text);

test('partial lines across chunks, empty chunks, and a last line without newline', () => {
  assert.deepEqual(texts(new LineSplitter(), ['ab', '', 'c\nde', 'f\n\ng']), ['abc', 'def', '', 'g']);
  assert.deepEqual(texts(new LineSplitter(), ['a\n']), ['a']);
  assert.deepEqual(texts(new LineSplitter(), []), []);
});

test('\\r\\n endings, also when split between chunks; a lone \\r inside a line is kept', () => {
  assert.deepEqual(texts(new LineSplitter(), ['one\r', '\ntwo\r\n', 'th\rree\r\n']), ['one', 'two', 'th\rree']);
});

test('UTF-8 bytes split inside a character', () => {
  const bytes = Buffer.from('é€😀\n', 'utf8');
  const chunks = [...bytes].map((b) => Uint8Array.of(b));
  assert.deepEqual(texts(new LineSplitter(), chunks), ['é€😀']);
});

test('a line longer than the limit keeps its start and counts the rest', () => {
  const s = new LineSplitter(10);
  const out = [...s.push('0123456'), ...s.push('789abcdef'), ...s.push('ghi\nshort\n')];
  assert.deepEqual(out, [
    { text: '0123456789', dropped: 9 },
    { text: 'short', dropped: 0 },
  ]);
  assert.deepEqual(new LineSplitter(3).end(), []);
});

test('splitLines: whole texts', () => {
  assert.deepEqual(splitLines('a\r\nb\n\nc'), ['a', 'b', '', 'c']);
  assert.deepEqual(splitLines('a\n'), ['a']);
  assert.deepEqual(splitLines(''), []);
});
