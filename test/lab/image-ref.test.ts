// `lab/lab image tag` names images as the CRI stores them (lab/src/realnode.ts), so that
// `ferrolb:next` in a Deployment finds what the command tagged. No lab needed.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeImageRef } from '../../lab/src/realnode.ts';

it('image references are normalised the way the CRI resolves them', () => {
  assert.equal(normalizeImageRef('ferrolb:dev'), 'docker.io/library/ferrolb:dev');
  assert.equal(normalizeImageRef('ferrolb'), 'docker.io/library/ferrolb:latest');
  assert.equal(normalizeImageRef('org/app:1'), 'docker.io/org/app:1');
  assert.equal(normalizeImageRef('lab.ferrolb.io/ferrolb:dev'), 'lab.ferrolb.io/ferrolb:dev');
  assert.equal(normalizeImageRef('localhost/x'), 'localhost/x:latest');
  assert.equal(normalizeImageRef('registry:5000/x:2'), 'registry:5000/x:2');
  assert.equal(normalizeImageRef('registry:5000/x'), 'registry:5000/x:latest');
});

it('a malformed reference is refused with its text', () => {
  assert.throws(() => normalizeImageRef('Ferrolb:dev'), /"Ferrolb:dev" is not an image reference/);
  assert.throws(() => normalizeImageRef(''), /is not an image reference/);
  assert.throws(() => normalizeImageRef('a b'), /"a b" is not an image reference/);
});
