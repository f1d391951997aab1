import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigurationStateWriter, MEMBERS_REACHABLE } from './configuration-state.ts';
import { ManualClock } from '../time/clock.ts';
import { createLogger } from '../observability/logging.ts';
import { ApiError, type KubeClient } from './client.ts';

/** A client that holds one existing ConfigurationState and records status patches. */
function fakeClient(patches: unknown[]): KubeClient {
  return {
    get: async () => ({}),
    create: async () => ({}),
    mergePatch: async (_path: string, body: unknown) => {
      patches.push(body);
      return {};
    },
  } as unknown as KubeClient;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('ConfigurationStateWriter', () => {
  it('writes warnings as a Warnings condition next to Valid, never silently dropped', async () => {
    const patches: { status: { result: string; conditions: { type: string; status: string; reason: string; message: string }[] } }[] = [];
    const w = new ConfigurationStateWriter(fakeClient(patches), 'metallb-system', 'controller', new ManualClock(), createLogger('test', 'fatal'));
    w.set('Valid', '', 'BGPPeer metallb-system/r: spec.vrf: vrf "red" is not acted on yet');
    await settle();
    const [first] = patches;
    assert.equal(first!.status.result, 'Valid');
    assert.deepEqual(first!.status.conditions.map((c) => [c.type, c.status, c.reason]), [['Valid', 'True', 'ConfigurationValid'], ['Warnings', 'True', 'ConfigurationWarnings']]);
    assert.match(first!.status.conditions[1]!.message, /vrf "red"/);
    // The same verdict is not written twice; the warnings going away is a change.
    w.set('Valid', '', 'BGPPeer metallb-system/r: spec.vrf: vrf "red" is not acted on yet');
    await settle();
    assert.equal(patches.length, 1);
    w.set('Valid', '');
    await settle();
    assert.deepEqual(patches[1]!.status.conditions.map((c) => [c.type, c.status, c.message]), [['Valid', 'True', ''], ['Warnings', 'False', '']]);
  });

  it('a speaker\'s membership view: a MembersReachable condition, False naming the peers it does not hear, written on change only', async () => {
    const patches: { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }[] = [];
    const w = new ConfigurationStateWriter(fakeClient(patches), 'metallb-system', 'speaker-node-1', new ManualClock(), createLogger('test', 'fatal'));
    w.setUnreachable('node-2 since 2026-12-01T23:40:00Z');
    await settle();
    assert.equal(patches.length, 0, 'nothing is written before there is a verdict to write with it');
    w.set('Valid', '');
    await settle();
    assert.deepEqual(patches[0]!.status.conditions.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['Valid', 'True', 'ConfigurationValid', ''],
      ['Warnings', 'False', 'NoWarnings', ''],
      [MEMBERS_REACHABLE, 'False', 'MembersUnreachable', 'node-2 since 2026-12-01T23:40:00Z'],
    ]);
    w.setUnreachable('node-2 since 2026-12-01T23:40:00Z');
    await settle();
    assert.equal(patches.length, 1);
    w.setUnreachable('');
    await settle();
    assert.deepEqual(patches[1]!.status.conditions[2], { type: MEMBERS_REACHABLE, status: 'True', reason: 'AllMembersReachable', message: '', lastTransitionTime: (patches[1]!.status.conditions[2] as unknown as { lastTransitionTime: string }).lastTransitionTime });
  });

  it('a membership report alone never re-creates a deleted object (ferrolb being removed); a new verdict does', async () => {
    let exists = true;
    const created: unknown[] = [];
    const patches: unknown[] = [];
    const notFound = new ApiError(404, 'NotFound', 'configurationstates "speaker-node-1" not found');
    const client = {
      get: async () => {
        if (!exists) throw notFound;
        return {};
      },
      create: async (_p: string, body: unknown) => {
        created.push(body);
        exists = true;
        return {};
      },
      mergePatch: async (_p: string, body: unknown) => void patches.push(body),
    } as unknown as KubeClient;
    const w = new ConfigurationStateWriter(client, 'metallb-system', 'speaker-node-1', new ManualClock(), createLogger('test', 'fatal'));
    w.set('Valid', '');
    await settle();
    assert.equal(patches.length, 1);
    exists = false; // the removal deleted it
    w.setUnreachable('node-2 since 2026-12-01T23:40:00Z');
    await settle();
    assert.deepEqual([created.length, patches.length], [0, 1], 'not brought back');
    w.set('Invalid', 'overlap');
    await settle();
    assert.deepEqual([created.length, patches.length], [1, 2], 'a verdict creates it');
  });
});
