import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardedShape, namesOnly, showJsonFromListing, type GuardedListing } from '../../src/core/flake/guarded';
import { parseFlakeShow } from '../../src/core/flake/show';

test('outputs named like Object.prototype members are keys like any other, and write nothing to Object.prototype', () => {
  const listing: GuardedListing = new Map();
  for (const attrPath of [['__proto__', 'x86_64-linux', 'hello'], ['packages', 'x86_64-linux', 'constructor'], ['constructor', 'toString']]) {
    listing.set(attrPath.join('\0'), { attrPath, leaf: { t: 'derivation', name: attrPath[attrPath.length - 1] } });
  }
  const json = showJsonFromListing(listing);
  assert.equal(({} as Record<string, unknown>)['x86_64-linux'], undefined, 'Object.prototype untouched');
  assert.deepEqual(Object.keys(json).sort(), ['__proto__', 'constructor', 'packages']);
  const parsed = parseFlakeShow(JSON.stringify(json));
  assert.ok(parsed.ok);
  assert.equal(namesOnly('constructor'), true);
  assert.equal(guardedShape('toString'), 'flat');
});
