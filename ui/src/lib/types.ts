// TypeScript mirror of docs/desktop-ipc.md (the desktop app ↔ UI contract).
// Keep this file in sync with that document; it is the only place the UI
// spells out the shapes it receives.

export type State = 'working' | 'waiting' | 'idle' | 'stale' | 'completed' | 'dead' | 'pinned';

export const STATES: readonly State[] = [
  'working',
  'waiting',
  'idle',
  'stale',
  'dead',
  'completed',
  'pinned',
];

/** What a waiting session waits for, most urgent first. */
export type WaitingFor = 'permission' | 'question' | 'input';

/** The signal that decided a state: observed (registry, hook, transcript,
 * mcp, otel) or inferred (process). */
export type Signal = 'registry' | 'hook' | 'transcript' | 'process' | 'mcp' | 'otel';
/** How an agent's files record usage (the core's `UsageKind`). */
export type UsageKind = 'tokens' | 'cost-only' | 'not-recorded' | 'approximate';

/** The tool call a permission prompt or a question is about (untrusted text). */
export interface PendingTool {
  name: string;
  summary: string;
}

export interface TokenView {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
  reasoning: number;
  total: number;
}

export interface SessionView {
  // Routa's fields
  sessionId: string;
  name: string | null;
  workspaceId: string | null;
  createdAt: string;
  lastActivity: string;
  status: 'active' | 'idle' | 'closed';
  // Remb's fields
  agentLabel: string;
  ideType: string | null;
  source: string;
  toolCallCount: number;
  lastToolName: string | null;
  lastActiveAt: string;
  startedAt: string;
  errorCount: number;
  // agentwatch's
  agent: string;
  state: State;
  /** Decided by the core (SessionState::is_live); never re-derived here. */
  live: boolean;
  waitingFor: WaitingFor | null;
  pendingTool: PendingTool | null;
  stateSignal: Signal | null;
  pid: number | null;
  projectPath: string | null;
  model: string | null;
  models: string[];
  tokens: TokenView;
  costUsd: number | null;
  priceSource: string | null;
  unpricedModels: string[];
  usageKind: UsageKind;
  /** Said beside the cost when it is not tokens per call. */
  usageNote: string | null;
  heartbeatAgeSeconds: number | null;
  endedAt: string | null;
  durationSeconds: number;
  externalId: string | null;
  agentVersion: string | null;
  transcriptPath: string | null;
  command: string | null;
  cpu: number | null;
  memoryBytes: number | null;
  programId: string | null;
  progress: number | null;
  statusText: string | null;
  contextBytes: number | null;
  handoffRequired: boolean | null;
  stateChangedAt: string | null;
  archived: boolean;
}

export interface ModelBreakdown {
  modelName: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cost: number | null;
  priceSource: string;
}

export interface StateChange {
  at: string;
  from: State | null;
  to: State;
  reason: string | null;
  scan: number | null;
  waitingFor: WaitingFor | null;
  signal: Signal | null;
}

export interface ToolCall {
  at: string;
  tool: string;
  source: 'hook' | 'mcp' | 'proxy';
  isError: boolean;
}

export interface Alert {
  id: number;
  at: string;
  kind: 'died' | 'stale' | 'waiting' | 'permission' | 'question' | 'budget_daily' | 'budget_monthly' | 'limit';
  sessionId: string | null;
  title: string;
  body: string;
  delivered: boolean;
  suppressed: string | null;
  resolvedAt: string | null;
}

export interface SessionDetail {
  session: SessionView;
  models: ModelBreakdown[];
  stateHistory: StateChange[];
  toolCalls: ToolCall[];
  alerts: Alert[];
  /** How much of each current plan window this session used (about). */
  limitShares: LimitShare[];
  /** The same as a phrase: "about 31 % of your 5-hour window". */
  limitShare: string | null;
  /** Context window use, as the agent's status line last said. */
  contextPercent: number | null;
  /** The session's cost as the agent itself counts it. */
  agentCostUsd: number | null;
  /** Calls the agent's telemetry reported that its transcript does not have yet. */
  liveUsage: LiveUsage | null;
}

export interface LiveUsage {
  calls: number;
  tokens: { input: number; output: number; cacheWrite5m: number; cacheWrite1h: number; cacheRead: number; reasoning: number };
  costUsd: number | null;
  source: string;
}

export interface LimitShare {
  window: string;
  windowMinutes: number;
  percent: number;
  fraction: number;
}

/** One plan window (5-hour, weekly) as the agent reported it. */
export interface Limit {
  agent: string;
  label: string; // the plan's name: "Claude", "Codex"
  window: string; // "5h", "week", …
  windowMinutes: number;
  usedPercent: number; // 0 once the window reset, until new readings
  resetsAt: string | null;
  observedAt: string;
  source: string; // rollout, statusline
  plan: string | null;
  ageSeconds: number;
  stale: boolean;
  resetPassed: boolean;
  fullAt: string | null; // at the last 30 minutes' rate, if before the reset
}

export interface LimitsReport {
  limits: Limit[];
  /** A line per plan, as the tray shows it. */
  plans: string[];
}

export interface TranscriptLine {
  at: string | null;
  role: 'user' | 'assistant' | 'tool' | 'system';
  text: string;
}

export interface TranscriptTail {
  path: string | null;
  lines: TranscriptLine[];
}

export interface CostGroup {
  key: string;
  label: string;
  cost: number | null;
  tokens: number;
}

/** Where an agent's cost figure comes from (the core decides it). */
export type CostProvenance =
  | 'transcript'
  | 'priced'
  | 'transcript-and-priced'
  | 'approximate'
  | 'cost-only'
  | 'unpriced'
  | 'not-recorded'
  | 'no-usage';

/** An agent's usage over a period. */
export interface AgentUsage {
  calls: number;
  tokens: TokenView | null; // null: not recorded, or nothing used
  costUsd: number | null; // null: not recorded, nothing used or no price; never shown as $0
  provenance: CostProvenance;
  provenanceText: string; // "priced", "cost only (tokens unknown)", "not recorded", …
  priceSource: string | null;
  unpricedModels: string[];
}

/** An agent agentwatch knows (`agents`, as `agentwatch agents --format json`). */
export interface AgentView {
  id: string;
  name: string;
  found: boolean;
  usage: boolean;
  usageKind: UsageKind | null;
  usageNote: string | null;
  hooks: boolean;
  telemetry: boolean;
  paths: { path: string; exists: boolean }[];
  sessions: number;
  live: number;
  last30Days: AgentUsage;
  allTime: AgentUsage;
}

export interface Budget {
  limitUsd: number | null;
  spentUsd: number;
}

export type CostRange = 'today' | '7d' | '30d' | 'thismonth';
export const COST_RANGES: readonly CostRange[] = ['today', '7d', '30d', 'thismonth'];

export interface DailyCost {
  date: string;
  cost: number;
  tokens: number;
}

export interface CostSummary {
  range: CostRange;
  from: string;
  to: string;
  totalCost: number;
  tokens: TokenView;
  byAgent: CostGroup[];
  byModel: CostGroup[];
  byProject: CostGroup[];
  daily: DailyCost[];
  priceSources: string[];
  unpricedModels: string[];
  budgets: { daily: Budget; monthly: Budget };
}

export interface Block {
  id: string;
  startTime: string;
  endTime: string;
  actualEndTime: string | null;
  isActive: boolean;
  isGap: boolean;
  entries: number;
  tokenCounts: {
    inputTokens: number;
    outputTokens: number;
    cacheCreationInputTokens: number;
    cacheReadInputTokens: number;
  };
  totalTokens: number;
  costUSD: number;
  models: string[];
  burnRate: { tokensPerMinute: number; costPerHour: number } | null;
  projection: { totalTokens: number; totalCost: number; remainingMinutes: number } | null;
  unpricedModels: string[];
}

export interface Settings {
  scanIntervalSecs: number;
  idleAfterSecs: number;
  staleAfterSecs: number;
  waitingAlertDelaySecs: number;
  archiveAfterHours: number;
  budgets: { dailyUsd: number | null; monthlyUsd: number | null };
  notifications: { enabled: boolean; quietHours: { start: string; end: string } | null };
  startAtLogin: boolean;
  dataDir: string;
  priceOverrideFile: string;
}

export type InstallTarget = 'hooks' | 'mcp-proxy' | 'statusline' | 'telemetry';
/** An agent's id ('claude-code', 'gemini-cli', ...), as `install_options` lists it. */
export type InstallAgent = string;
export const INSTALL_TARGETS: readonly InstallTarget[] = ['hooks', 'mcp-proxy', 'statusline', 'telemetry'];

/** An agent something can be installed for, and what (from the agents' own folders). */
export interface InstallOption {
  agent: InstallAgent;
  name: string;
  targets: InstallTarget[];
}

export interface InstallPreview {
  target: InstallTarget;
  agent: InstallAgent;
  installed: boolean;
  changes: { path: string; diff: string }[];
}

export interface SessionFilter {
  active?: boolean;
  state?: State;
  agent?: string;
  project?: string;
  source?: string;
  search?: string;
  limit?: number;
}

export type HistoryRange = 'today' | 'yesterday' | '7d' | '30d' | 'thismonth' | 'lastmonth' | 'all';
export const HISTORY_RANGES: readonly HistoryRange[] = [
  'today',
  'yesterday',
  '7d',
  '30d',
  'thismonth',
  'lastmonth',
  'all',
];

export interface HistoryArgs {
  range: HistoryRange;
  limit: number;
  offset: number;
  agent?: string;
  search?: string;
}

export type LiveEventKind =
  | 'session.created'
  | 'session.updated'
  | 'session.state'
  | 'tool.call'
  | 'tool.decision'
  | 'usage'
  | 'alert'
  | 'alert.resolved';

export interface LiveEvent {
  id: number;
  at: string;
  kind: LiveEventKind;
  sessionId: string | null;
  session?: SessionView;
  toolCall?: ToolCall;
  alert?: Alert;
  /** alert.resolved: the alert whose notification was withdrawn. */
  alertId?: number;
  /** tool.decision: a decision on a tool, from the agent's telemetry. */
  decision?: { at: string; tool: string; decision: string; source: string };
}

export const EVENT_NAME = 'agentwatch://event';
