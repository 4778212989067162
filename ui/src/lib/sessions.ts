// Pure logic of the Active list: merging the live event stream into the
// rows, and sorting / filtering them for display. No Svelte, no IPC, so it
// is unit-tested on its own (tests/sessions.test.ts).

import { runtimeSeconds, sessionTitle } from './format';
import type { LiveEvent, SessionView, State } from './types';

const SESSION_KINDS = new Set(['session.created', 'session.updated', 'session.state']);

/**
 * The Active list as rows keyed by session id.
 *
 * - Events that arrive before the initial `list_sessions` answer are buffered
 *   and applied, in order, on top of it (so nothing is lost in the gap
 *   between subscribing and loading).
 * - A session.* event carrying `session` inserts or replaces that row; the
 *   row shows whatever state the Rust side says (completed/dead rows stay
 *   until "Clear completed" reloads the list).
 * - An event older than the last one applied to the same session (lower id)
 *   is ignored, as is any event without a session payload.
 * - A session the Rust side reports as archived is removed.
 */
export class ActiveModel {
  private rows = new Map<string, SessionView>();
  private lastEventId = new Map<string, number>();
  private buffer: LiveEvent[] | null = [];

  get loaded(): boolean {
    return this.buffer === null;
  }

  /** Replace all rows with a fresh `list_sessions` answer, then apply buffered events. */
  load(sessions: SessionView[]): void {
    this.rows = new Map();
    for (const s of sessions) {
      if (!s.archived) this.rows.set(s.sessionId, s);
    }
    const pending = this.buffer ?? [];
    this.buffer = null;
    for (const ev of pending) this.apply(ev);
  }

  /** Start buffering again (before a reload), so events during the reload are kept. */
  beginReload(): void {
    if (this.buffer === null) this.buffer = [];
  }

  /** Apply one live event. Returns true when the rows changed. */
  apply(ev: LiveEvent): boolean {
    if (this.buffer !== null) {
      this.buffer.push(ev);
      return false;
    }
    if (!SESSION_KINDS.has(ev.kind) || !ev.session) return false;
    const s = ev.session;
    const id = s.sessionId;
    const last = this.lastEventId.get(id);
    if (last !== undefined && ev.id <= last) return false;
    this.lastEventId.set(id, ev.id);
    if (s.archived) return this.rows.delete(id);
    this.rows.set(id, s);
    return true;
  }

  get(id: string): SessionView | undefined {
    return this.rows.get(id);
  }

  list(): SessionView[] {
    return Array.from(this.rows.values());
  }

  get size(): number {
    return this.rows.size;
  }
}

export type SortKey = 'runtime' | 'cost' | 'tokens' | 'state' | 'name';
export type SortDir = 'asc' | 'desc';

/** Display order for sorting by state: the ones needing attention first. */
export const STATE_ORDER: readonly State[] = [
  'waiting',
  'stale',
  'dead',
  'working',
  'idle',
  'pinned',
  'completed',
];

function stateRank(s: State): number {
  const i = STATE_ORDER.indexOf(s);
  return i === -1 ? STATE_ORDER.length : i;
}

/**
 * Sort a copy of `rows`. Unknown costs (null) always sort last, whatever the
 * direction. Ties fall back to the session id so the order is stable.
 */
export function sortSessions(
  rows: readonly SessionView[],
  key: SortKey,
  dir: SortDir,
  nowMs: number,
): SessionView[] {
  const sign = dir === 'asc' ? 1 : -1;
  const cmp = (a: SessionView, b: SessionView): number => {
    switch (key) {
      case 'runtime':
        return sign * (runtimeSeconds(a, nowMs) - runtimeSeconds(b, nowMs));
      case 'tokens':
        return sign * (a.tokens.total - b.tokens.total);
      case 'state':
        return sign * (stateRank(a.state) - stateRank(b.state));
      case 'name':
        return sign * sessionTitle(a).localeCompare(sessionTitle(b), 'en');
      case 'cost': {
        if (a.costUsd === null && b.costUsd === null) return 0;
        if (a.costUsd === null) return 1;
        if (b.costUsd === null) return -1;
        return sign * (a.costUsd - b.costUsd);
      }
    }
  };
  return [...rows].sort((a, b) => cmp(a, b) || a.sessionId.localeCompare(b.sessionId, 'en'));
}

export interface ListFilter {
  state: State | '';
  agent: string;
  search: string;
}

/** The text a free-text search looks in. */
function haystack(s: SessionView): string {
  return [
    s.name,
    s.agentLabel,
    s.agent,
    s.projectPath,
    s.command,
    s.model,
    ...s.models,
    s.sessionId,
    s.statusText,
    s.lastToolName,
  ]
    .filter((x): x is string => typeof x === 'string' && x !== '')
    .join('\n')
    .toLowerCase();
}

export function filterSessions(rows: readonly SessionView[], f: ListFilter): SessionView[] {
  const terms = f.search.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((s) => {
    if (f.state && s.state !== f.state) return false;
    if (f.agent && s.agent !== f.agent) return false;
    if (terms.length) {
      const h = haystack(s);
      return terms.every((t) => h.includes(t));
    }
    return true;
  });
}

/** Distinct agent ids present in the rows, for the agent filter. */
export function agentsOf(rows: readonly SessionView[]): { id: string; label: string }[] {
  const m = new Map<string, string>();
  for (const s of rows) if (!m.has(s.agent)) m.set(s.agent, s.agentLabel || s.agent);
  return [...m.entries()]
    .map(([id, label]) => ({ id, label }))
    .sort((a, b) => a.label.localeCompare(b.label, 'en'));
}

