// Fixture data for the e2e tests: what the Rust side would answer, in the
// shapes of docs/desktop-ipc.md. Times are relative to a fixed NOW (the
// tests freeze the page clock there and run in UTC).

export const NOW = Date.parse('2026-10-01T14:30:00Z');
const iso = (msAgo) => new Date(NOW - msAgo).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

export const XSS_LINE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

function tokens(input, output, cacheCreation = 0, cacheRead = 0, reasoning = 0) {
  return { input, output, cacheCreation, cacheRead, reasoning, total: input + output + cacheCreation + cacheRead + reasoning };
}

export function session(over) {
  const startedAt = over.startedAt ?? iso(30 * MIN);
  return {
    sessionId: 'x',
    name: null,
    workspaceId: null,
    createdAt: startedAt,
    lastActivity: iso(10_000),
    status: 'active',
    agentLabel: 'Claude Code',
    ideType: null,
    source: 'transcript',
    toolCallCount: 0,
    lastToolName: null,
    lastActiveAt: iso(10_000),
    usageKind: 'tokens',
    usageNote: null,
    startedAt,
    errorCount: 0,
    agent: 'claude-code',
    state: 'working',
    pid: null,
    projectPath: null,
    model: null,
    models: [],
    tokens: tokens(0, 0),
    costUsd: null,
    priceSource: null,
    unpricedModels: [],
    heartbeatAgeSeconds: 3,
    endedAt: null,
    durationSeconds: Math.round((NOW - Date.parse(startedAt)) / 1000),
    externalId: null,
    agentVersion: null,
    transcriptPath: null,
    command: null,
    cpu: null,
    memoryBytes: null,
    programId: null,
    progress: null,
    statusText: null,
    contextBytes: null,
    handoffRequired: null,
    stateChangedAt: null,
    archived: false,
    stateSignal: 'transcript',
    pendingTool: null,
    ...over,
    // As the core says: live unless ended; what a waiting one waits for.
    live: !['completed', 'dead'].includes(over.state ?? 'working'),
    waitingFor: over.waitingFor ?? ((over.state ?? 'working') === 'waiting' ? 'input' : null),
  };
}

export const ACTIVE = [
  session({
    sessionId: 's-claude-1',
    name: 'Fix flaky ingest test',
    agent: 'claude-code',
    agentLabel: 'Claude Code',
    agentVersion: '2.1.4',
    state: 'working',
    pid: 4242,
    projectPath: '/home/dev/src/agentwatch',
    model: 'claude-sonnet-4-5',
    models: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
    tokens: tokens(234_567, 88_000, 412_000, 500_000),
    costUsd: 1.2345,
    priceSource: 'snapshot 2026-09-20',
    startedAt: iso(2 * HOUR + 5 * MIN + 10_000),
    command: 'claude --model sonnet --permission-mode acceptEdits --add-dir /home/dev/src/agentwatch/crates',
    transcriptPath: '/home/dev/.claude/projects/-home-dev-src-agentwatch/s-claude-1.jsonl',
    toolCallCount: 57,
    lastToolName: 'Bash',
    stateChangedAt: iso(88 * MIN),
    cpu: 12.5,
    memoryBytes: 310 * 1024 * 1024,
  }),
  session({
    sessionId: 's-codex-1',
    name: null,
    agent: 'codex',
    agentLabel: 'Codex',
    state: 'waiting',
    pid: 5151,
    projectPath: '/home/dev/src/website',
    model: 'gpt-9-experimental',
    models: ['gpt-9-experimental'],
    tokens: tokens(40_000, 5_600),
    costUsd: null,
    unpricedModels: ['gpt-9-experimental'],
    startedAt: iso(47 * MIN),
    command: 'codex --full-auto',
    statusText: 'Approve command: npm run deploy',
    waitingFor: 'permission',
    pendingTool: { name: 'Bash', summary: 'npm run deploy' },
    stateSignal: 'hook',
  }),
  session({
    sessionId: 's-gemini-1',
    name: 'notes cleanup',
    agent: 'gemini-cli',
    agentLabel: 'Gemini CLI',
    state: 'stale',
    pid: 6161,
    projectPath: '/home/dev/notes/',
    model: 'gemini-2.5-pro',
    models: ['gemini-2.5-pro'],
    tokens: tokens(900, 300),
    costUsd: 0.004,
    priceSource: 'snapshot 2026-09-20',
    heartbeatAgeSeconds: 410,
    startedAt: iso(5 * HOUR),
    command: 'gemini',
  }),
  session({
    sessionId: 's-claude-2',
    name: 'Write release notes',
    agent: 'claude-code',
    agentLabel: 'Claude Code',
    state: 'completed',
    pid: null,
    projectPath: '/home/dev/src/agentwatch',
    model: 'claude-opus-4-1',
    models: ['claude-opus-4-1'],
    tokens: tokens(50_000, 12_000),
    costUsd: 3.5,
    priceSource: 'user override',
    startedAt: iso(3 * HOUR),
    endedAt: iso(2 * HOUR),
    durationSeconds: 3600,
    command: 'claude',
  }),
];

const AGENTS = [
  ['claude-code', 'Claude Code'],
  ['codex', 'Codex'],
  ['gemini-cli', 'Gemini CLI'],
];

export const HISTORY = Array.from({ length: 120 }, (_, i) => {
  const [agent, agentLabel] = AGENTS[i % 3];
  return session({
    sessionId: `h-${String(i).padStart(3, '0')}`,
    name: `History session ${i}`,
    agent,
    agentLabel,
    state: i % 7 === 0 ? 'dead' : 'completed',
    projectPath: `/home/dev/src/project-${i % 5}`,
    model: 'claude-sonnet-4-5',
    models: ['claude-sonnet-4-5'],
    tokens: tokens(1000 * i, 100 * i),
    costUsd: i % 11 === 0 ? null : 0.25 * i,
    startedAt: iso((i + 1) * HOUR),
    endedAt: iso((i + 1) * HOUR - 20 * MIN),
    durationSeconds: 1200,
  });
});

function days(n) {
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(NOW - (n - 1 - i) * 24 * HOUR);
    return { date: d.toISOString().slice(0, 10), cost: 1 + ((i * 37) % 9) + 0.34, tokens: 100_000 * (i + 1) };
  });
}

function summary(range, totalCost, nDays) {
  const daily = days(nDays);
  return {
    range,
    from: daily[0].date,
    to: daily[daily.length - 1].date,
    totalCost,
    tokens: tokens(1_200_000, 340_000, 2_000_000, 9_000_000, 12_000),
    byAgent: [
      { key: 'claude-code', label: 'Claude Code', cost: totalCost - 2.34, tokens: 11_000_000 },
      { key: 'gemini-cli', label: 'Gemini CLI', cost: 2.34, tokens: 500_000 },
      { key: 'codex', label: 'Codex', cost: null, tokens: 45_600 },
    ],
    byModel: [
      { key: 'claude-sonnet-4-5', label: 'claude-sonnet-4-5', cost: totalCost - 2.34, tokens: 11_000_000 },
      { key: 'gemini-2.5-pro', label: 'gemini-2.5-pro', cost: 2.34, tokens: 500_000 },
      { key: 'gpt-9-experimental', label: 'gpt-9-experimental', cost: null, tokens: 45_600 },
    ],
    byProject: [
      { key: '/home/dev/src/agentwatch', label: 'agentwatch', cost: totalCost - 2.34, tokens: 11_000_000 },
      { key: '/home/dev/notes', label: 'notes', cost: 2.34, tokens: 500_000 },
      { key: '/home/dev/src/website', label: 'website', cost: null, tokens: 45_600 },
    ],
    daily,
    priceSources: ['snapshot 2026-09-20', 'user override'],
    unpricedModels: ['gpt-9-experimental'],
    budgets: { daily: { limitUsd: 20, spentUsd: 12.34 }, monthly: { limitUsd: null, spentUsd: 150.2 } },
  };
}

export const COSTS = {
  today: summary('today', 12.34, 1),
  '7d': summary('7d', 61.07, 7),
  '30d': summary('30d', 250.5, 30),
  thismonth: summary('thismonth', 12.34, 1),
};

const blockTokens = (i, o) => ({ inputTokens: i, outputTokens: o, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
export const BLOCKS = {
  blocks: [
    {
      id: '2026-10-01T00:00:00.000Z',
      startTime: '2026-10-01T00:00:00.000Z',
      endTime: '2026-10-01T05:00:00.000Z',
      actualEndTime: '2026-10-01T03:12:00.000Z',
      isActive: false,
      isGap: false,
      entries: 140,
      tokenCounts: blockTokens(300_000, 40_000),
      totalTokens: 340_000,
      costUSD: 4.56,
      models: ['claude-sonnet-4-5'],
      burnRate: null,
      projection: null,
      unpricedModels: [],
    },
    {
      id: 'gap-2026-10-01T03:12:00.000Z',
      startTime: '2026-10-01T03:12:00.000Z',
      endTime: '2026-10-01T12:00:00.000Z',
      actualEndTime: null,
      isActive: false,
      isGap: true,
      entries: 0,
      tokenCounts: blockTokens(0, 0),
      totalTokens: 0,
      costUSD: 0,
      models: [],
      burnRate: null,
      projection: null,
      unpricedModels: [],
    },
    {
      id: '2026-10-01T12:00:00.000Z',
      startTime: '2026-10-01T12:00:00.000Z',
      endTime: '2026-10-01T17:00:00.000Z',
      actualEndTime: '2026-10-01T14:29:00.000Z',
      isActive: true,
      isGap: false,
      entries: 88,
      tokenCounts: blockTokens(500_000, 60_000),
      totalTokens: 560_000,
      costUSD: 7.78,
      models: ['claude-sonnet-4-5', 'gpt-9-experimental'],
      burnRate: { tokensPerMinute: 3733, costPerHour: 3.11 },
      projection: { totalTokens: 1_120_000, totalCost: 15.55, remainingMinutes: 150 },
      unpricedModels: ['gpt-9-experimental'],
    },
  ],
};

export const SETTINGS = {
  scanIntervalSecs: 2,
  idleAfterSecs: 120,
  staleAfterSecs: 60,
  waitingAlertDelaySecs: 30,
  archiveAfterHours: 24,
  budgets: { dailyUsd: 20, monthlyUsd: null },
  notifications: { enabled: true, quietHours: { start: '22:00', end: '07:00' } },
  startAtLogin: false,
  dataDir: '/home/dev/.local/share/agentwatch',
  priceOverrideFile: '/home/dev/.config/agentwatch/prices.json',
};

export const CLAUDE_HOOKS_DIFF = [
  '--- a/home/dev/.claude/settings.json',
  '+++ b/home/dev/.claude/settings.json',
  '@@ -1,3 +1,12 @@',
  ' {',
  '-  "theme": "dark"',
  '+  "theme": "dark",',
  '+  "hooks": {',
  '+    "PreToolUse": [{ "hooks": [{ "type": "command", "command": "agentwatch hook pre-tool" }] }]',
  '+  }',
  ' }',
].join('\n');

function transcript() {
  const lines = [];
  for (let i = 0; i < 60; i++) {
    lines.push({
      at: iso((60 - i) * MIN),
      role: i % 3 === 0 ? 'user' : i % 3 === 1 ? 'assistant' : 'tool',
      text: `line ${i}: ${i % 3 === 2 ? 'cargo test -p agentwatch-core … ok' : 'Looking at the ingest cursor handling.'}`,
    });
  }
  lines.push({ at: iso(30_000), role: 'tool', text: XSS_LINE });
  lines.push({ at: iso(20_000), role: 'assistant', text: 'The last line above is untrusted output, shown as text.' });
  return { path: ACTIVE[0].transcriptPath, lines };
}

export const DETAILS = {
  's-claude-1': {
    session: ACTIVE[0],
    models: [
      {
        modelName: 'claude-sonnet-4-5',
        inputTokens: 230_000,
        outputTokens: 85_000,
        cacheCreationTokens: 400_000,
        cacheReadTokens: 480_000,
        cost: 1.2,
        priceSource: 'snapshot 2026-09-20',
      },
      {
        modelName: 'claude-haiku-4-5',
        inputTokens: 4567,
        outputTokens: 3000,
        cacheCreationTokens: 12_000,
        cacheReadTokens: 20_000,
        cost: 0.0345,
        priceSource: 'snapshot 2026-09-20',
      },
      {
        modelName: 'mystery-model',
        inputTokens: 10,
        outputTokens: 5,
        cacheCreationTokens: 0,
        cacheReadTokens: 0,
        cost: null,
        priceSource: 'unknown',
      },
    ],
    stateHistory: [
      { at: iso(2 * HOUR + 5 * MIN), from: null, to: 'working', reason: 'process started', scan: 1, waitingFor: null, signal: 'process' },
      { at: iso(95 * MIN), from: 'working', to: 'waiting', reason: 'permission prompt', scan: 2, waitingFor: 'permission', signal: 'registry' },
      { at: iso(88 * MIN), from: 'waiting', to: 'working', reason: 'user answered', scan: 3, waitingFor: null, signal: 'hook' },
    ],
    toolCalls: [
      { at: iso(5 * MIN), tool: 'Read', source: 'hook', isError: false },
      { at: iso(4 * MIN), tool: 'Edit', source: 'hook', isError: false },
      { at: iso(3 * MIN), tool: 'Bash', source: 'hook', isError: true },
    ],
    alerts: [
      {
        id: 7,
        at: iso(95 * MIN),
        kind: 'waiting',
        sessionId: 's-claude-1',
        title: 'Claude Code is waiting',
        body: 'Fix flaky ingest test needs your input',
        delivered: true,
        suppressed: null,
      },
    ],
    limitShares: [{ window: '5h', windowMinutes: 300, percent: 31.2, fraction: 0.374 }],
    limitShare: 'about 31 % of your 5-hour window',
    contextPercent: 42,
    agentCostUsd: 1.19,
    liveUsage: {
      calls: 2,
      tokens: { input: 1200, output: 340, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 9000, reasoning: 0 },
      costUsd: 0.0412,
      source: 'otel',
    },
  },
};

const ahead = (ms) => new Date(NOW + ms).toISOString();
export const LIMITS = {
  limits: [
    {
      agent: 'claude-code', label: 'Claude', window: '5h', windowMinutes: 300, usedPercent: 83.4,
      resetsAt: ahead(2 * HOUR + 5 * MIN), observedAt: iso(MIN), source: 'statusline', plan: null,
      ageSeconds: 60, stale: false, resetPassed: false, fullAt: ahead(40 * MIN),
    },
    {
      agent: 'claude-code', label: 'Claude', window: 'week', windowMinutes: 10080, usedPercent: 21,
      resetsAt: ahead(3 * 24 * HOUR), observedAt: iso(MIN), source: 'statusline', plan: null,
      ageSeconds: 60, stale: false, resetPassed: false, fullAt: null,
    },
    {
      agent: 'codex', label: 'Codex', window: '5h', windowMinutes: 300, usedPercent: 0,
      resetsAt: null, observedAt: iso(6 * HOUR), source: 'rollout', plan: 'plus',
      ageSeconds: 6 * 3600, stale: true, resetPassed: true, fullAt: null,
    },
  ],
  plans: ['Claude 5h 83% · resets 16:35 | week 21%', 'Codex 5h 0% (reset) (6 h ago)'],
};

function usage(calls, tok, costUsd, provenance, provenanceText, priceSource = null, unpricedModels = []) {
  return { calls, tokens: tok, costUsd, provenance, provenanceText, priceSource, unpricedModels };
}
const NO_USAGE = usage(0, null, null, 'no-usage', 'no usage');
const NOT_RECORDED = usage(0, null, null, 'not-recorded', 'not recorded');

function agent(id, name, over) {
  return {
    id, name, found: true, usage: true, usageKind: 'tokens', usageNote: null, hooks: false, telemetry: false,
    paths: [{ path: `/home/dev/.${id}`, exists: true }], sessions: 0, live: 0,
    last30Days: NO_USAGE, allTime: NO_USAGE, ...over,
  };
}

// As `agentwatch agents --format json` gives them: priced, the agent's own
// cost with tokens unknown, rounded, not recorded, not found.
export const AGENT_LIST = {
  agents: [
    agent('claude-code', 'Claude Code', {
      hooks: true, telemetry: true, sessions: 12, live: 2,
      paths: [{ path: '/home/dev/.claude/projects', exists: true }, { path: '/home/dev/.config/claude/projects', exists: false }],
      last30Days: usage(40, tokens(1_200_000, 80_000), 7.61, 'priced', 'priced', 'snapshot 2026-09-20'),
      allTime: usage(90, tokens(3_000_000, 210_000), 9.18, 'transcript-and-priced', 'transcript + priced', 'snapshot 2026-09-20 + transcript'),
    }),
    agent('codex', 'Codex', { found: false, paths: [{ path: '/home/dev/.codex/sessions', exists: false }] }),
    agent('crush', 'Crush', {
      usageKind: 'cost-only', usageNote: 'Crush: cost only, tokens not recorded by Crush', sessions: 6,
      allTime: usage(3, null, 0.71, 'cost-only', 'cost only (tokens unknown)', 'transcript'),
    }),
    agent('aider', 'Aider', {
      usageKind: 'approximate', usageNote: 'Aider: tokens and cost per call, as rounded by Aider', sessions: 3,
      paths: [{ path: '/home/dev/proj', exists: true }],
      last30Days: usage(9, tokens(80_000, 13_000), 0.19, 'approximate', 'approximate', 'snapshot 2026-09-20 + transcript'),
      allTime: usage(9, tokens(80_000, 13_000), 0.19, 'approximate', 'approximate', 'snapshot 2026-09-20 + transcript'),
    }),
    agent('cursor-agent', 'Cursor Agent', {
      usage: false, usageKind: 'not-recorded', usageNote: 'Cursor Agent: usage not recorded by Cursor', sessions: 1,
      paths: [{ path: '/home/dev/.cursor/chats', exists: true }],
      last30Days: NOT_RECORDED, allTime: NOT_RECORDED,
    }),
  ],
};

export const TRANSCRIPTS = { 's-claude-1': transcript() };

export function fixture() {
  return {
    now: NOW,
    active: ACTIVE,
    history: HISTORY,
    costs: COSTS,
    blocks: BLOCKS,
    limits: LIMITS,
    agents: AGENT_LIST,
    settings: SETTINGS,
    details: DETAILS,
    transcripts: TRANSCRIPTS,
    claudeHooksDiff: CLAUDE_HOOKS_DIFF,
    // As `install_options` answers (install::offers).
    installOptions: [
      { agent: 'claude-code', name: 'Claude Code', targets: ['hooks', 'mcp-proxy', 'statusline', 'telemetry'] },
      { agent: 'codex', name: 'Codex', targets: ['hooks', 'mcp-proxy', 'telemetry'] },
      { agent: 'gemini-cli', name: 'Gemini CLI', targets: ['hooks', 'telemetry'] },
      { agent: 'opencode', name: 'OpenCode', targets: ['hooks'] },
      { agent: 'qwen-code', name: 'Qwen Code', targets: ['hooks'] },
      { agent: 'cursor-agent', name: 'Cursor Agent', targets: ['mcp-proxy'] },
    ],
  };
}
