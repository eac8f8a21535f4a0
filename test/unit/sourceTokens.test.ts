import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inComment, LineIndex, TokenKind, tokenize, tokenList, type Token } from '../../src/core/source';

const K = TokenKind;

/** `[kind, text]` pairs, for compact expectations. */
function lex(text: string): [TokenKind, string][] {
  return tokenList(tokenize(text)).map((t: Token) => [t.kind, t.text]);
}

test('identifiers, keywords, numbers and operators', () => {
  assert.deepEqual(lex("let a-b' = 1; in rec { x = a-b' + 2.5e3 // { }; } ++ [ ] or true"), [
    [K.Let, 'let'],
    [K.Ident, "a-b'"],
    [K.Assign, '='],
    [K.Int, '1'],
    [K.Semicolon, ';'],
    [K.In, 'in'],
    [K.Rec, 'rec'],
    [K.LBrace, '{'],
    [K.Ident, 'x'],
    [K.Assign, '='],
    [K.Ident, "a-b'"],
    [K.Operator, '+'],
    [K.Float, '2.5e3'],
    [K.Update, '//'],
    [K.LBrace, '{'],
    [K.RBrace, '}'],
    [K.Semicolon, ';'],
    [K.RBrace, '}'],
    [K.Concat, '++'],
    [K.LBracket, '['],
    [K.RBracket, ']'],
    [K.Or, 'or'],
    [K.Ident, 'true'],
  ]);
  assert.deepEqual(
    lex('with inherit if then else assert a == b != c <= d >= e && f || g -> !h ? i @ j ...').map(([k]) => k),
    [
      K.With,
      K.Inherit,
      K.If,
      K.Then,
      K.Else,
      K.Assert,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Ident,
      K.Operator,
      K.Operator,
      K.Ident,
      K.Question,
      K.Ident,
      K.At,
      K.Ident,
      K.Ellipsis,
    ],
  );
});

test('strings: escapes, nested interpolation with strings inside, `$${`', () => {
  assert.deepEqual(lex('"a\\"b${ x + "in${"ner"}" }c$${d}"'), [
    [K.StrOpen, '"'],
    [K.StrPart, 'a\\"b'],
    [K.InterpOpen, '${'],
    [K.Ident, 'x'],
    [K.Operator, '+'],
    [K.StrOpen, '"'],
    [K.StrPart, 'in'],
    [K.InterpOpen, '${'],
    [K.StrOpen, '"'],
    [K.StrPart, 'ner'],
    [K.StrClose, '"'],
    [K.InterpClose, '}'],
    [K.StrClose, '"'],
    [K.InterpClose, '}'],
    [K.StrPart, 'c$${d}'],
    [K.StrClose, '"'],
  ]);
  // A set inside an interpolation: its braces are not the interpolation's.
  const kinds = lex('"${ { a = "}"; }.a }"').map(([k]) => k);
  assert.deepEqual(kinds, [
    K.StrOpen,
    K.InterpOpen,
    K.LBrace,
    K.Ident,
    K.Assign,
    K.StrOpen,
    K.StrPart,
    K.StrClose,
    K.Semicolon,
    K.RBrace,
    K.Dot,
    K.Ident,
    K.InterpClose,
    K.StrClose,
  ]);
});

test("indented strings: ''$ ''' ''\\n escapes and ${} interpolation", () => {
  const src = "''\n  a ''${b} ''' c ''\\n ${ d ''x'' } $${e}\n''";
  assert.deepEqual(lex(src), [
    [K.IndStrOpen, "''"],
    [K.IndStrPart, "\n  a ''${b} ''' c ''\\n "],
    [K.InterpOpen, '${'],
    [K.Ident, 'd'],
    [K.IndStrOpen, "''"],
    [K.IndStrPart, 'x'],
    [K.IndStrClose, "''"],
    [K.InterpClose, '}'],
    [K.IndStrPart, ' $${e}\n'],
    [K.IndStrClose, "''"],
  ]);
});

test('comments are not tokens, and are listed', () => {
  const text = '# mkDerivation { = \n/* buildGoModule {\n = */ a /**/ b # end';
  const stream = tokenize(text);
  assert.deepEqual(lex(text), [
    [K.Ident, 'a'],
    [K.Ident, 'b'],
  ]);
  assert.equal(stream.comments.length, 4);
  assert.ok(inComment(stream, text.indexOf('mkDerivation')));
  assert.ok(inComment(stream, text.indexOf('buildGoModule')));
  assert.ok(!inComment(stream, text.indexOf(' a ') + 1));
});

test('paths, search paths, home paths, interpolated paths', () => {
  assert.deepEqual(lex('./a/b.nix ../x /abs/p ~/x <nixpkgs> <nixpkgs/lib> ./. a/b'), [
    [K.Path, './a/b.nix'],
    [K.Path, '../x'],
    [K.Path, '/abs/p'],
    [K.Path, '~/x'],
    [K.SearchPath, '<nixpkgs>'],
    [K.SearchPath, '<nixpkgs/lib>'],
    [K.Path, './.'],
    [K.Path, 'a/b'],
  ]);
  assert.deepEqual(lex('./pkgs/${name}/default.nix'), [
    [K.Path, './pkgs/'],
    [K.InterpOpen, '${'],
    [K.Ident, 'name'],
    [K.InterpClose, '}'],
    [K.Path, '/default.nix'],
  ]);
  // Division needs spaces; `a < b` is a comparison.
  assert.deepEqual(
    lex('a / b < c').map(([k]) => k),
    [K.Ident, K.Operator, K.Ident, K.Operator, K.Ident],
  );
});

test('URIs are unquoted strings, as Nix lexes them; `x: x` is a function', () => {
  assert.deepEqual(lex('https://example.org/a.tar.gz?x=1 github:NixOS/nixpkgs/nixos-24.05'), [
    [K.Uri, 'https://example.org/a.tar.gz?x=1'],
    [K.Uri, 'github:NixOS/nixpkgs/nixos-24.05'],
  ]);
  assert.deepEqual(lex('x: x'), [
    [K.Ident, 'x'],
    [K.Colon, ':'],
    [K.Ident, 'x'],
  ]);
  assert.deepEqual(lex('x:x'), [[K.Uri, 'x:x']]);
  assert.deepEqual(
    lex('pkgs.lib.mkIf').map(([k]) => k),
    [K.Ident, K.Dot, K.Ident, K.Dot, K.Ident],
  );
});

test('unterminated constructs end at the end of the text, without throwing', () => {
  for (const text of ['"abc ${ x', "''abc", '/* never closed', '"a\\', "''a ''\\", '${', '"${"', "''${''", '{ a = "x', '~', '$', "'"]) {
    const stream = tokenize(text);
    for (let i = 0; i < stream.count; i++) assert.ok(stream.ends[i] <= text.length && stream.starts[i] <= stream.ends[i], text);
    // Each of these is cut short or invalid: said so, and read to its last character (by a token or the comment).
    assert.ok(stream.problems.length > 0, text);
    const lastToken = stream.count > 0 ? stream.ends[stream.count - 1] : 0;
    assert.equal(Math.max(lastToken, ...stream.comments.map((c) => c.end)), text.length, text);
  }
  const s = tokenize('{ a = "open');
  assert.ok(s.problems.some((p) => /unterminated string/.test(p.message)));
  assert.equal(tokenize('/* x').problems[0].message, 'unterminated comment');
});

test('every character of the text is in a token, a comment or whitespace', () => {
  const text = "{ a = \"x${y}\"; b = ''z''; /* c */ d = ./e; # f\n g = <h>; i = 1.5; }";
  const s = tokenize(text);
  const covered = new Array<boolean>(text.length).fill(false);
  for (let i = 0; i < s.count; i++) for (let j = s.starts[i]; j < s.ends[i]; j++) covered[j] = true;
  for (const c of s.comments) for (let j = c.start; j < c.end; j++) covered[j] = true;
  for (let j = 0; j < text.length; j++) assert.ok(covered[j] || /\s/.test(text[j]), `offset ${j} '${text[j]}'`);
});

test('LineIndex converts offsets and positions both ways (LF, CRLF, CR)', () => {
  const text = 'ab\ncd\r\nef\rgh';
  const lines = new LineIndex(text);
  assert.equal(lines.lineCount, 4);
  assert.deepEqual(lines.positionAt(0), { line: 0, character: 0 });
  assert.deepEqual(lines.positionAt(3), { line: 1, character: 0 });
  assert.deepEqual(lines.positionAt(5), { line: 1, character: 2 });
  assert.deepEqual(lines.positionAt(7), { line: 2, character: 0 });
  assert.deepEqual(lines.positionAt(10), { line: 3, character: 0 });
  assert.deepEqual(lines.positionAt(999), { line: 3, character: 2 });
  for (let o = 0; o <= text.length; o++) {
    if (text[o - 1] === '\r' && text[o] === '\n') continue; // between \r and \n is not a position
    assert.equal(lines.offsetAt(lines.positionAt(o)), o);
  }
  assert.equal(lines.offsetAt({ line: 1, character: 99 }), 5);
  assert.equal(lines.offsetAt({ line: -1, character: 0 }), 0);
  assert.equal(lines.offsetAt({ line: 9, character: 0 }), text.length);
  assert.equal(lines.lineEnd(1), 5);
  assert.deepEqual(lines.toLineRange({ start: 1, end: 4 }), { start: { line: 0, character: 1 }, end: { line: 1, character: 1 } });
  assert.deepEqual(lines.toRange(lines.toLineRange({ start: 1, end: 4 })), { start: 1, end: 4 });
  assert.equal(new LineIndex('').lineCount, 1);
  // Only LF (read by search rather than per character): the same lines as the general reading would give.
  const lf = '\nab\n\ncd\n';
  const fast = new LineIndex(lf);
  assert.equal(fast.lineCount, 5);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((l) => [fast.lineStart(l), fast.lineEnd(l)]),
    [
      [0, 0],
      [1, 3],
      [4, 4],
      [5, 7],
      [8, 8],
    ],
  );
  assert.deepEqual(fast.positionAt(6), { line: 3, character: 1 });
});
