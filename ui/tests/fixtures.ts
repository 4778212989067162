import type { LiveEvent, SessionView, State } from '../src/lib/types';

let n = 0;

export function session(over: Partial<SessionView> = {}): SessionView {
  n++;
  const id = over.sessionId ?? `s${n}`;
  return {
    sessionId: id,
    name: null,
    workspaceId: null,
    createdAt: '2026-10-01T10:00:00Z',
    lastActivity: '2026-10-01T10:05:00Z',
    status: 'active',
    agentLabel: 'Claude Code',
    ideType: null,
    source: 'transcript',
    toolCallCount: 0,
    lastToolName: null,
    lastActiveAt: '2026-10-01T10:05:00Z',
    startedAt: '2026-10-01T10:00:00Z',
    errorCount: 0,
    agent: 'claude-code',
    state: 'working',
    // As the core says: live unless ended.
    live: !['completed', 'dead'].includes(over.state ?? 'working'),
    waitingFor: over.state === 'waiting' ? 'input' : null,
    pendingTool: null,
    stateSignal: 'transcript',
    pid: 100 + n,
    projectPath: '/home/u/src/proj',
    model: 'claude-sonnet-4-5',
    models: ['claude-sonnet-4-5'],
    tokens: { input: 10, output: 20, cacheCreation: 0, cacheRead: 0, reasoning: 0, total: 30 },
    costUsd: 0.5,
    priceSource: 'snapshot 2026-09-20',
    unpricedModels: [],
    usageKind: 'tokens',
    usageNote: null,
    heartbeatAgeSeconds: 2,
    endedAt: null,
    durationSeconds: 300,
    externalId: null,
    agentVersion: null,
    transcriptPath: null,
    command: 'claude',
    cpu: null,
    memoryBytes: null,
    programId: null,
    progress: null,
    statusText: null,
    contextBytes: null,
    handoffRequired: null,
    stateChangedAt: null,
    archived: false,
    ...over,
  };
}

export function stateEvent(id: number, s: SessionView, state: State, kind: LiveEvent['kind'] = 'session.state'): LiveEvent {
  const live = state !== 'completed' && state !== 'dead';
  return { id, at: '2026-10-01T10:06:00Z', kind, sessionId: s.sessionId, session: { ...s, state, live } };
}
