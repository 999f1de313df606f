import { describe, expect, it } from 'vitest';
import { workspaceTurns } from '../../server/src/services/common/index.ts';

/** Work that runs until the test lets it end; `started` says whether it has begun. */
function heldWork(log: string[], name: string) {
  let finish = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const state = { started: false };
  const work = async () => {
    state.started = true;
    log.push(`start ${name}`);
    await ended;
    log.push(`end ${name}`);
    return name;
  };
  return { work, state, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('change sets taken in turns per workspace', () => {
  it('runs a flooding workspace’s change sets one after another while another workspace’s runs at once', async () => {
    const turns = workspaceTurns(1);
    const log: string[] = [];
    const flood = [heldWork(log, 'a1'), heldWork(log, 'a2'), heldWork(log, 'a3')];
    const quiet = heldWork(log, 'b1');
    const floodDone = flood.map(({ work }) => turns.run('a', work));
    const quietDone = turns.run('b', quiet.work);
    await settle();
    expect(flood.map(({ state }) => state.started)).toEqual([true, false, false]);
    expect(quiet.state.started).toBe(true);

    quiet.finish();
    expect(await quietDone).toBe('b1');
    flood[0]!.finish();
    await settle();
    expect(flood.map(({ state }) => state.started)).toEqual([true, true, false]);
    flood[1]!.finish();
    flood[2]!.finish();
    expect(await Promise.all(floodDone)).toEqual(['a1', 'a2', 'a3']);
    expect(log.filter((line) => line.endsWith('a1') || line.endsWith('a2') || line.endsWith('a3'))).toEqual([
      'start a1',
      'end a1',
      'start a2',
      'end a2',
      'start a3',
      'end a3',
    ]);
  });

  it('passes the turn on when a change set fails', async () => {
    const turns = workspaceTurns(1);
    const failed = turns.run('a', async () => {
      throw new Error('CRM refused');
    });
    const next = turns.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('CRM refused');
    expect(await next).toBe('next');
  });

  it('tells work whether it waited, so what the change set read before its turn is read again only then', async () => {
    const turns = workspaceTurns(1);
    const first = heldWork([], 'a1');
    const waits: boolean[] = [];
    const running = turns.run('a', async (waited) => {
      waits.push(waited);
      return first.work();
    });
    const queued = turns.run('a', async (waited) => {
      waits.push(waited);
    });
    await settle();
    first.finish();
    await Promise.all([running, queued]);
    expect(waits).toEqual([false, true]);
  });
});
