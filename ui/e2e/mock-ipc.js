// Injected before any page script (playwright addInitScript), after
// `window.__AW_FIXTURE__` has been set. Stands in for the Tauri runtime the
// way @tauri-apps/api/mocks' mockIPC does: a fake window.__TAURI_INTERNALS__
// whose invoke() answers from the fixture, transformCallback() registering
// callbacks, and the event plugin's listen/unlisten, so the unmodified
// built bundle runs. Tests drive it through:
//   window.__awCalls           every invoke as { cmd, args }
//   window.__awEmit(payload)   deliver an agentwatch://event
//   window.__awFail[cmd] = msg make a command reject with that message
//   window.__cspViolations     securitypolicyviolation events seen
(() => {
  const fx = window.__AW_FIXTURE__;
  const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const state = {
    active: clone(fx.active),
    settings: clone(fx.settings),
    installed: {},
  };

  window.__awCalls = [];
  window.__awFail = {};
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({
      violatedDirective: e.violatedDirective,
      effectiveDirective: e.effectiveDirective,
      blockedURI: e.blockedURI,
      sample: e.sample,
    });
  });

  // --- callbacks (core.transformCallback) -------------------------------
  const callbacks = new Map();
  let nextCallback = 1;
  function transformCallback(callback, once = false) {
    const id = nextCallback++;
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      return callback && callback(data);
    });
    return id;
  }
  function unregisterCallback(id) {
    callbacks.delete(id);
  }
  function runCallback(id, data) {
    const cb = callbacks.get(id);
    if (cb) cb(data);
  }

  // --- event plugin ------------------------------------------------------
  const listeners = new Map(); // event name -> [handler callback ids]
  let nextEventId = 1;
  function emit(event, payload) {
    for (const handler of [...(listeners.get(event) || [])]) {
      runCallback(handler, { event, id: nextEventId++, payload: clone(payload) });
    }
  }
  // Like the real backend, the stored data changes with the event, so a
  // re-fetch after an event agrees with it.
  window.__awEmit = (payload) => {
    const s = payload.session;
    if (s) {
      const i = state.active.findIndex((x) => x.sessionId === s.sessionId);
      if (i === -1) state.active.push(clone(s));
      else state.active[i] = clone(s);
    }
    const d = payload.sessionId && fx.details[payload.sessionId];
    if (d && payload.toolCall) d.toolCalls.push(clone(payload.toolCall));
    if (d && payload.alert) d.alerts.push(clone(payload.alert));
    emit('agentwatch://event', payload);
  };
  window.__awListenerCount = () => (listeners.get('agentwatch://event') || []).length;

  // --- commands ----------------------------------------------------------
  const ENDED = new Set(['completed', 'dead']);
  function handle(cmd, args) {
    switch (cmd) {
      case 'plugin:event|listen': {
        if (!listeners.has(args.event)) listeners.set(args.event, []);
        listeners.get(args.event).push(args.handler);
        return args.handler;
      }
      case 'plugin:event|unlisten': {
        const l = listeners.get(args.event);
        if (l) {
          const i = l.indexOf(args.eventId);
          if (i !== -1) l.splice(i, 1);
        }
        return null;
      }
      case 'plugin:event|emit':
        emit(args.event, args.payload);
        return null;
      case 'list_sessions': {
        let rows = state.active;
        if (args.filter && args.filter.state) rows = rows.filter((s) => s.state === args.filter.state);
        return { sessions: rows };
      }
      case 'history': {
        let rows = fx.history;
        if (args.agent) rows = rows.filter((s) => s.agent === args.agent);
        if (args.search) {
          const q = args.search.toLowerCase();
          rows = rows.filter((s) => (s.name || '').toLowerCase().includes(q));
        }
        return { sessions: rows.slice(args.offset, args.offset + args.limit), total: rows.length };
      }
      case 'get_session': {
        const d = fx.details[args.id];
        if (!d) throw `no session ${args.id}`;
        const live = state.active.find((s) => s.sessionId === args.id);
        return { ...d, session: live || d.session };
      }
      case 'transcript_tail': {
        const t = fx.transcripts[args.id];
        if (!t) throw `no transcript for ${args.id}`;
        return { path: t.path, lines: t.lines.slice(-(args.lines || 100)) };
      }
      case 'kill_session': {
        const s = state.active.find((x) => x.sessionId === args.id);
        if (!s) throw `no session ${args.id}`;
        return { ok: true, message: `Sent SIGTERM to ${s.agentLabel} (pid ${s.pid}).` };
      }
      case 'clear_completed': {
        const before = state.active.length;
        state.active = state.active.filter((s) => !ENDED.has(s.state));
        return { archived: before - state.active.length };
      }
      case 'cost_summary':
        if (!fx.costs[args.range]) throw `bad range ${args.range}`;
        return fx.costs[args.range];
      case 'cost_blocks':
        return fx.blocks;
      case 'limits':
        return fx.limits;
      case 'agents':
        return fx.agents;
      case 'get_settings':
        return state.settings;
      case 'save_settings':
        state.settings = { ...clone(args.settings), dataDir: fx.settings.dataDir, priceOverrideFile: fx.settings.priceOverrideFile };
        return state.settings;
      case 'install_options':
        return { options: clone(fx.installOptions) };
      case 'install_preview': {
        const key = `${args.target}:${args.agent}`;
        const installed = !!state.installed[key];
        const wantsChange = args.uninstall ? installed : !installed;
        let changes = [];
        if (wantsChange) {
          changes =
            args.target === 'hooks' && args.agent === 'claude-code'
              ? [{ path: '/home/dev/.claude/settings.json', diff: fx.claudeHooksDiff }]
              : [{ path: `/home/dev/.${args.agent}/config`, diff: `--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new ${args.target}` }];
        }
        return { target: args.target, agent: args.agent, installed, changes };
      }
      case 'install_apply': {
        const key = `${args.target}:${args.agent}`;
        state.installed[key] = !args.uninstall;
        return { message: `${args.uninstall ? 'Removed' : 'Installed'} ${args.target} for ${args.agent}.` };
      }
      case 'open_session_window':
        return null;
      default:
        throw `unknown command ${cmd}`;
    }
  }

  async function invoke(cmd, args = {}, _options) {
    if (!cmd.startsWith('plugin:event|')) window.__awCalls.push({ cmd, args: clone(args) });
    if (Object.prototype.hasOwnProperty.call(window.__awFail, cmd)) throw window.__awFail[cmd];
    // answer asynchronously, as the real IPC does
    await new Promise((r) => setTimeout(r, 0));
    return clone(handle(cmd, args));
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback,
    runCallback,
    callbacks,
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
    convertFileSrc: (p) => p,
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener: (_event, id) => unregisterCallback(id),
  };
  // expose the mock's live session list so tests can emit consistent events
  window.__awState = state;
})();
