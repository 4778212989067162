import { describe, expect, it } from 'vitest';
import { ActiveModel, agentsOf, filterSessions, sortSessions } from '../src/lib/sessions';
import { session, stateEvent } from './fixtures';

describe('ActiveModel event merging', () => {
  it('buffers events until the initial list, then applies them in order', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a' });
    expect(m.apply(stateEvent(1, a, 'waiting'))).toBe(false);
    expect(m.size).toBe(0);
    m.load([a]);
    expect(m.loaded).toBe(true);
    expect(m.get('a')?.state).toBe('waiting');
  });

  it('updates existing rows and inserts new sessions', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a' });
    m.load([a]);
    expect(m.apply(stateEvent(2, a, 'idle'))).toBe(true);
    expect(m.get('a')?.state).toBe('idle');
    const b = session({ sessionId: 'b' });
    expect(m.apply({ id: 3, at: '', kind: 'session.created', sessionId: 'b', session: b })).toBe(true);
    expect(m.list().map((s) => s.sessionId).sort()).toEqual(['a', 'b']);
  });

  it('keeps completed and dead sessions visible', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a' });
    m.load([a]);
    m.apply(stateEvent(2, a, 'dead'));
    m.apply(stateEvent(3, session({ sessionId: 'c' }), 'completed'));
    expect(m.get('a')?.state).toBe('dead');
    expect(m.get('c')?.state).toBe('completed');
  });

  it('ignores out-of-order events for the same session', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a' });
    m.load([a]);
    m.apply(stateEvent(10, a, 'waiting'));
    expect(m.apply(stateEvent(9, a, 'working'))).toBe(false);
    expect(m.get('a')?.state).toBe('waiting');
  });

  it('ignores events without a session payload and non-session kinds', () => {
    const m = new ActiveModel();
    m.load([session({ sessionId: 'a' })]);
    expect(m.apply({ id: 2, at: '', kind: 'session.updated', sessionId: 'a' })).toBe(false);
    expect(
      m.apply({ id: 3, at: '', kind: 'tool.call', sessionId: 'a', toolCall: { at: '', tool: 'Bash', source: 'hook', isError: false } }),
    ).toBe(false);
    expect(m.apply({ id: 4, at: '', kind: 'usage', sessionId: 'a', session: session({ sessionId: 'zz' }) })).toBe(false);
    expect(m.size).toBe(1);
  });

  it('removes sessions reported as archived', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a' });
    m.load([a, session({ sessionId: 'x', archived: true })]);
    expect(m.size).toBe(1);
    expect(m.apply({ id: 5, at: '', kind: 'session.updated', sessionId: 'a', session: { ...a, archived: true } })).toBe(true);
    expect(m.size).toBe(0);
  });

  it('a reload replaces rows and re-applies events that arrived meanwhile', () => {
    const m = new ActiveModel();
    const a = session({ sessionId: 'a', state: 'completed' });
    const b = session({ sessionId: 'b' });
    m.load([a, b]);
    m.beginReload();
    m.apply(stateEvent(7, b, 'waiting'));
    expect(m.get('b')?.state).toBe('working'); // buffered
    m.load([b]);
    expect(m.get('a')).toBeUndefined();
    expect(m.get('b')?.state).toBe('waiting');
  });
});

describe('sortSessions', () => {
  const now = Date.parse('2026-10-01T12:00:00Z');
  const rows = [
    session({ sessionId: 'cheap', costUsd: 0.1, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0, reasoning: 0, total: 500 }, state: 'idle', startedAt: '2026-10-01T11:00:00Z' }),
    session({ sessionId: 'unknown', costUsd: null, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0, reasoning: 0, total: 9000 }, state: 'working', startedAt: '2026-10-01T11:30:00Z' }),
    session({ sessionId: 'dear', costUsd: 5, tokens: { input: 0, output: 0, cacheCreation: 0, cacheRead: 0, reasoning: 0, total: 100 }, state: 'waiting', startedAt: '2026-10-01T09:00:00Z' }),
  ];
  const ids = (xs: { sessionId: string }[]) => xs.map((x) => x.sessionId);

  it('by cost, unknown last in both directions', () => {
    expect(ids(sortSessions(rows, 'cost', 'desc', now))).toEqual(['dear', 'cheap', 'unknown']);
    expect(ids(sortSessions(rows, 'cost', 'asc', now))).toEqual(['cheap', 'dear', 'unknown']);
  });
  it('by tokens', () => {
    expect(ids(sortSessions(rows, 'tokens', 'desc', now))).toEqual(['unknown', 'cheap', 'dear']);
  });
  it('by live runtime', () => {
    expect(ids(sortSessions(rows, 'runtime', 'desc', now))).toEqual(['dear', 'cheap', 'unknown']);
  });
  it('by state, attention first', () => {
    expect(ids(sortSessions(rows, 'state', 'asc', now))).toEqual(['dear', 'unknown', 'cheap']);
  });
  it('does not mutate its input and is stable on ties', () => {
    const copy = [...rows];
    const tied = [session({ sessionId: 'b2', costUsd: 1 }), session({ sessionId: 'a1', costUsd: 1 })];
    expect(ids(sortSessions(tied, 'cost', 'desc', now))).toEqual(['a1', 'b2']);
    sortSessions(rows, 'tokens', 'asc', now);
    expect(rows).toEqual(copy);
  });
});

describe('filterSessions', () => {
  const rows = [
    session({ sessionId: 'a', agent: 'claude-code', state: 'working', projectPath: '/src/agentwatch', command: 'claude --resume' }),
    session({ sessionId: 'b', agent: 'codex', agentLabel: 'Codex', state: 'waiting', projectPath: '/src/website', model: 'gpt-5-codex', models: ['gpt-5-codex'] }),
    session({ sessionId: 'c', agent: 'codex', agentLabel: 'Codex', state: 'dead', name: 'Refactor Parser' }),
  ];
  const ids = (xs: { sessionId: string }[]) => xs.map((x) => x.sessionId);

  it('by state and agent', () => {
    expect(ids(filterSessions(rows, { state: 'waiting', agent: '', search: '' }))).toEqual(['b']);
    expect(ids(filterSessions(rows, { state: '', agent: 'codex', search: '' }))).toEqual(['b', 'c']);
    expect(ids(filterSessions(rows, { state: 'dead', agent: 'claude-code', search: '' }))).toEqual([]);
  });
  it('free text, case-insensitive, all terms must match', () => {
    expect(ids(filterSessions(rows, { state: '', agent: '', search: 'AGENTWATCH' }))).toEqual(['a']);
    expect(ids(filterSessions(rows, { state: '', agent: '', search: 'gpt-5' }))).toEqual(['b']);
    expect(ids(filterSessions(rows, { state: '', agent: '', search: 'refactor parser' }))).toEqual(['c']);
    expect(ids(filterSessions(rows, { state: '', agent: '', search: 'refactor website' }))).toEqual([]);
    expect(ids(filterSessions(rows, { state: '', agent: '', search: '  ' }))).toEqual(['a', 'b', 'c']);
  });
  it('agentsOf lists distinct agents by label', () => {
    expect(agentsOf(rows)).toEqual([
      { id: 'claude-code', label: 'Claude Code' },
      { id: 'codex', label: 'Codex' },
    ]);
  });
});
