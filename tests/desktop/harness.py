"""Drives the real agentwatch-desktop app under Xvfb and a private D-Bus
session, for tests/desktop/e2e.py and bench/desktop.

Pieces, each started by the caller and stopped by `Harness.close()`:

- a StatusNotifierWatcher (org.kde.StatusNotifierWatcher) owned by this
  process, so the app's tray (libayatana-appindicator) registers its item
  here and its menu can be read and clicked over com.canonical.dbusmenu;
- dbus-monitor recording every org.freedesktop.Notifications.Notify call,
  and dunst showing them (so they can be seen and photographed);
- tauri-driver + WebKitWebDriver, which start the app and drive its webviews
  (plain WebDriver over HTTP, no client library);
- an X watcher that timestamps windows being mapped, and X screenshots.

Needs DISPLAY and DBUS_SESSION_BUS_ADDRESS: run under
`xvfb-run -a dbus-run-session -- ...` (tests/desktop/run.sh does).
"""

import asyncio
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from dbus_next import Message, MessageType, Variant
from dbus_next.aio import MessageBus
from Xlib import X, display as xdisplay

ROOT = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("AGENTWATCH_DESKTOP_BIN", ROOT / "target/debug/agentwatch-desktop"))
TAURI_DRIVER = os.environ.get("TAURI_DRIVER") or shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def wait_for(what, fn, timeout=20.0, every=0.05):
    """Polls fn() until it returns something truthy; fails after timeout."""
    end = time.monotonic() + timeout
    last_err = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last_err = e
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_err})" if last_err else ""))
        time.sleep(every)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- D-Bus: the tray's watcher and menu -------------------------------------------


class Tray:
    """A StatusNotifierWatcher, and a client of the items that register with it."""

    def __init__(self):
        self.items = []  # (bus name, object path)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the StatusNotifierWatcher did not start")

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self):
        self.bus = await MessageBus().connect()
        self.bus.add_message_handler(self._handle)
        await self.bus.request_name(WATCHER)

    def _props(self):
        return {
            "RegisteredStatusNotifierItems": Variant("as", [f"{n}{p}" for n, p in self.items]),
            "IsStatusNotifierHostRegistered": Variant("b", True),
            "ProtocolVersion": Variant("i", 0),
        }

    def _handle(self, msg):
        if msg.message_type != MessageType.METHOD_CALL or msg.path != WATCHER_PATH:
            return None
        if msg.interface == WATCHER and msg.member == "RegisterStatusNotifierItem":
            service = msg.body[0]
            # An item names its object path (bus name = the sender) or its bus name.
            item = (msg.sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
            if item not in self.items:
                self.items.append(item)
            self.bus.send(Message.new_signal(WATCHER_PATH, WATCHER, "StatusNotifierItemRegistered", "s", [f"{item[0]}{item[1]}"]))
            return Message.new_method_return(msg)
        if msg.interface == WATCHER and msg.member == "RegisterStatusNotifierHost":
            return Message.new_method_return(msg)
        if msg.interface == "org.freedesktop.DBus.Properties":
            props = self._props()
            if msg.member == "GetAll":
                return Message.new_method_return(msg, "a{sv}", [props])
            if msg.member == "Get" and msg.body[1] in props:
                return Message.new_method_return(msg, "v", [props[msg.body[1]]])
        if msg.interface == "org.freedesktop.DBus.Introspectable":
            return Message.new_method_return(msg, "s", ['<node><interface name="org.kde.StatusNotifierWatcher"/></node>'])
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", f"{msg.member} is not known here")

    def _do(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _call(self, dest, path, iface, member, sig="", body=()):
        reply = await self.bus.call(Message(destination=dest, path=path, interface=iface, member=member, signature=sig, body=list(body)))
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{iface}.{member}: {reply.error_name}: {reply.body}")
        return reply.body

    def item(self):
        """The registered item (bus name, path), waiting for it."""
        return wait_for("the tray item to register with the StatusNotifierWatcher", lambda: self.items[-1] if self.items else None, 30)

    def item_property(self, name):
        dest, path = self.item()
        return self._do(self._call(dest, path, "org.freedesktop.DBus.Properties", "Get", "ss", ["org.kde.StatusNotifierItem", name]))[0].value

    def menu_path(self):
        return self.item_property("Menu")

    def layout(self):
        """The menu as a tree of {id, label, enabled, type, toggle, children}."""
        dest, _ = self.item()
        body = self._do(self._call(dest, self.menu_path(), "com.canonical.dbusmenu", "GetLayout", "iias", [0, -1, []]))

        def node(n):
            nid, props, kids = n
            p = {k: v.value for k, v in props.items()}
            label = p.get("label", "")
            # GTK mnemonics: "__" is a literal underscore, a single "_" marks the key.
            label = label.replace("__", "\0").replace("_", "").replace("\0", "_")
            return {
                "id": nid,
                "label": label,
                "enabled": p.get("enabled", True),
                "visible": p.get("visible", True),
                "type": p.get("type", "standard"),
                "toggle": p.get("toggle-state"),
                "children": [node(k.value) for k in kids],
            }

        return node(body[1])

    def flat(self):
        out = []

        def walk(n, depth):
            for c in n["children"]:
                if c["visible"]:
                    out.append(dict(c, depth=depth))
                    walk(c, depth + 1)

        walk(self.layout(), 0)
        return out

    def labels(self):
        return [("---" if i["type"] == "separator" else "  " * i["depth"] + i["label"]) for i in self.flat()]

    def find(self, pred):
        for i in self.flat():
            if pred(i):
                return i
        return None

    def icon_pixels(self):
        """The tray icon as the host would draw it: (width, height, RGBA bytes)."""
        name = self.item_property("IconName")
        path = Path(name)
        if not path.is_absolute():
            theme = self.item_property("IconThemePath")
            path = Path(theme) / f"{name}.png"
        return png_rgba(path.read_bytes())

    def icon_is(self, state):
        """Whether the tray shows icons/tray-<state>.png."""
        return self.icon_pixels() == png_rgba((ROOT / f"icons/tray-{state}.png").read_bytes())

    def click(self, item_id):
        """dbusmenu Event "clicked", as a tray host sends it when the user picks an item."""
        dest, _ = self.item()
        self._do(self._call(dest, self.menu_path(), "com.canonical.dbusmenu", "Event", "isvu", [item_id, "clicked", Variant("i", 0), 0]))

    def close(self):
        try:
            self._do(self._disconnect(), 5)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _disconnect(self):
        self.bus.disconnect()


def png_rgba(data):
    """Decodes an 8-bit RGBA or RGB, non-interlaced PNG: (width, height, RGBA bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype, interlace)
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    out, prev = bytearray(), bytearray(stride)
    for r in range(h):
        f, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line if bpp == 4 else b"".join(bytes(line[i:i + 3]) + b"\xff" for i in range(0, stride, 3))
        prev = line
    return w, h, bytes(out)


# --- WebDriver over plain HTTP -------------------------------------------------------

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def req(self, method, path, body=None, timeout=60, retry=True):
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(3):
            r = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(r, timeout=timeout) as resp:
                    return json.loads(resp.read() or b"{}").get("value")
            except urllib.error.HTTPError as e:
                raise RuntimeError(f"WebDriver {method} {path}: {e.code} {e.read()[:500]!r}") from None
            except (ConnectionResetError, http.client.RemoteDisconnected):
                # tauri-driver sometimes reuses a keep-alive connection to
                # WebKitWebDriver just as that closes it; the request never
                # arrived, so it is safe to send again.
                if not retry or attempt == 2:
                    raise
                time.sleep(0.2)

    def s(self, method, path, body=None):
        return self.req(method, f"/session/{self.sid}{path}", body)

    def start(self, app, args=()):
        caps = {"capabilities": {"alwaysMatch": {"tauri:options": {"application": str(app), "args": list(args)}}}}
        self.sid = self.req("POST", "/session", caps, timeout=120, retry=False)["sessionId"]
        return self.sid

    def handles(self):
        return self.s("GET", "/window/handles")

    def switch(self, handle):
        self.s("POST", "/window", {"handle": handle})

    def url(self):
        return self.s("GET", "/url")

    def title(self):
        return self.s("GET", "/title")

    def elements(self, css):
        return [e[ELEMENT] for e in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def text(self, el):
        return self.s("GET", f"/element/{el}/text")

    def texts(self, css):
        return [self.text(e) for e in self.elements(css)]

    def screenshot(self, path):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        Path(path).write_bytes(png)
        return path

    def close_window(self):
        return self.s("DELETE", "/window")

    def quit(self):
        if self.sid:
            try:
                self.req("DELETE", f"/session/{self.sid}", timeout=20)
            except Exception:  # noqa: BLE001
                pass
            self.sid = None


# --- X: window maps and screenshots ------------------------------------------------------


class XWatch:
    """Timestamps (time.monotonic) every top-level window mapped, by name."""

    def __init__(self):
        self.events = []  # (t, window id, name)
        self.lock = threading.Lock()
        self.d = xdisplay.Display()
        self.root = self.d.screen().root
        self.root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self.d.sync()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

        self.net_wm_name = self.d.intern_atom("_NET_WM_NAME")
        self.utf8 = self.d.intern_atom("UTF8_STRING")

    def _name(self, win):
        try:
            p = win.get_full_property(self.net_wm_name, self.utf8)
            if p and p.value:
                v = p.value
                return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            n = win.get_wm_name()
            return n.decode("latin-1") if isinstance(n, bytes) else (n or "")
        except Exception:  # noqa: BLE001 - the window may be gone already
            return ""

    def _run(self):
        while not self.stop:
            ev = self.d.next_event()
            if ev.type == X.MapNotify:
                t = time.monotonic()
                name = self._name(ev.window)
                with self.lock:
                    self.events.append((t, ev.window.id, name))

    def mapped_after(self, t0, contains):
        with self.lock:
            for t, _, name in self.events:
                if t >= t0 and contains in name:
                    return t
        return None

    def windows(self, contains):
        """Top-level windows whose name contains `contains`: [(window, viewable)]."""
        d = xdisplay.Display()
        out = []
        try:
            for w in d.screen().root.query_tree().children:
                name = self._name(w)
                if contains in name:
                    try:
                        out.append((w.id, name, w.get_attributes().map_state == X.IsViewable))
                    except Exception:  # noqa: BLE001
                        pass
        finally:
            d.close()
        return out

    def close(self, exact):
        """Asks the window named `exact` to close, as a window manager does (WM_DELETE_WINDOW)."""
        from Xlib.protocol import event as xevent

        d = xdisplay.Display()
        try:
            protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
            sent = 0
            for w in d.screen().root.query_tree().children:
                if self._name(w) == exact and w.get_attributes().map_state == X.IsViewable:
                    ev = xevent.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
                    w.send_event(ev, event_mask=X.NoEventMask)
                    sent += 1
            d.sync()
            return sent
        finally:
            d.close()

    def viewable(self, exact):
        return any(v for _, n, v in self.windows(exact) if n == exact)

    def names(self):
        with self.lock:
            return [(round(t, 3), hex(w), n) for t, w, n in self.events]


def x_screenshot(path, crop=None):
    """The X screen (or the window named `crop`, with a margin) as a PNG."""
    d = xdisplay.Display()
    root = d.screen().root
    geo = root.get_geometry()
    x, y, w, h = 0, 0, geo.width, geo.height
    if crop:
        for win in root.query_tree().children:
            try:
                name = win.get_wm_name() or ""
                cls = win.get_wm_class() or ()
                attrs = win.get_attributes()
            except Exception:  # noqa: BLE001
                continue
            if attrs.map_state == X.IsViewable and (crop in str(name) or crop in cls):
                g = win.get_geometry()
                m = 24
                x, y = max(0, g.x - m), max(0, g.y - m)
                w, h = min(geo.width - x, g.width + 2 * m), min(geo.height - y, g.height + 2 * m)
                break
        else:
            raise AssertionError(f"no window named {crop!r} is visible")
    raw = root.get_image(x, y, w, h, X.ZPixmap, 0xFFFFFFFF).data
    d.close()
    rgb = bytearray(w * h * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = raw[2::4], raw[1::4], raw[0::4]
    rows = b"".join(b"\x00" + bytes(rgb[r * w * 3:(r + 1) * w * 3]) for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)
    return path


# --- processes ------------------------------------------------------------------------------


def children_of(pid):
    """Every descendant pid of pid (from /proc)."""
    kids = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def proc_name(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def cpu_ticks(pid):
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Harness:
    """A temp world (home, data, config, project), the helpers and the app."""

    def __init__(self, keep=False, scan_interval=1):
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="aw-desktop-e2e-"))
        self.home = self.tmp / "home"
        self.data = self.tmp / "data"
        self.config = self.tmp / "config"
        self.project = self.tmp / "src" / "web-app"
        for d in (self.home / ".claude/projects", self.home / ".codex/sessions", self.config, self.project):
            d.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        # A fast scan for quick tests; None keeps the default (2 s).
        scan = f"scan_interval_secs = {scan_interval}\n\n" if scan_interval else ""
        (self.config / "config.toml").write_text(f"{scan}[api]\nport = {self.api_port}\n")
        self.procs = []  # (name, Popen)
        self.tray = None
        self.xwatch = None
        self.wd = None
        self.notify_log = self.tmp / "notify.log"
        self.agent = None

    def env(self):
        e = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "LANG", "XDG_RUNTIME_DIR")
        }
        e.update(
            HOME=str(self.home),
            AGENTWATCH_DATA_DIR=str(self.data),
            AGENTWATCH_CONFIG_DIR=str(self.config),
            AGENTWATCH_PROCESS_SCOPE=str(self.tmp),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local/share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            AGENTWATCH_LOG="info,agentwatch_desktop=debug,tao=warn,wry=warn",
            TZ="UTC",
            NO_AT_BRIDGE="1",
            LANG=os.environ.get("AW_TEST_LANG", "C.UTF-8"),
            GDK_BACKEND="x11",
            # WebKitGTK's sandbox needs namespaces a container may not allow.
            WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS="1",
            WEBKIT_DISABLE_COMPOSITING_MODE="1",
        )
        return e

    def spawn(self, name, argv, **kw):
        out = open(self.tmp / f"{name}.log", "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=kw.pop("env", self.env()), start_new_session=True, **kw)
        self.procs.append((name, p))
        return p

    def start_desktop_services(self):
        """Watcher, notification recorder and server, X watcher."""
        assert os.environ.get("DISPLAY") and os.environ.get("DBUS_SESSION_BUS_ADDRESS"), "run under xvfb-run and dbus-run-session"
        self.tray = Tray()
        log = open(self.notify_log, "wb")
        p = subprocess.Popen(["dbus-monitor", "--session", "interface=org.freedesktop.Notifications,member=Notify"], stdout=log, stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(("dbus-monitor", p))
        self.spawn("dunst", ["dunst"])
        self.xwatch = XWatch()
        time.sleep(0.5)

    def start_app(self, args=()):
        assert APP.exists(), f"{APP} is missing: cargo build -p agentwatch-desktop"
        port, native = free_port(), free_port()
        self.spawn("tauri-driver", [TAURI_DRIVER, "--port", str(port), "--native-port", str(native)])
        self.wd = WebDriver(port)
        for p in (port, native):  # tauri-driver, and the WebKitWebDriver it starts
            wait_for(f"a WebDriver on port {p}", lambda: socket.create_connection(("127.0.0.1", p), 0.2).close() or True, 20)
        t0 = time.monotonic()
        self.wd.start(APP, args)
        log(f"app started through WebDriver in {time.monotonic() - t0:.1f} s")
        return self.wd

    def app_pid(self):
        for name, p in self.procs:
            if name == "tauri-driver":
                for k in children_of(p.pid):
                    if proc_name(k).startswith("agentwatch-desk"):
                        return k
        return None

    def start_agent(self, name="claude", project=None):
        """A fake agent: a copy of /bin/sleep named like the agent, working in the project."""
        project = Path(project or self.project)
        project.mkdir(parents=True, exist_ok=True)
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir(exist_ok=True)
        exe = bin_dir / name
        if not exe.exists():
            shutil.copy("/bin/sleep", exe)
        p = self.spawn(f"agent-{name}-{project.name}", [str(exe), "600"], cwd=project)
        if self.agent is None:
            self.agent = p
        return p

    def claude_transcript(self, project, session_id, lines):
        """Writes a Claude Code transcript for a project dir, as Claude Code does after it starts."""
        enc = "".join(c if c.isalnum() else "-" for c in str(project))
        p = self.home / ".claude/projects" / enc / f"{session_id}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines))
        return p

    def codex_rollout(self, project, session_id, when, lines):
        day = time.strftime("%Y/%m/%d", time.gmtime(when))
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(when))
        p = self.home / ".codex/sessions" / day / f"rollout-{stamp}-{session_id}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines))
        return p

    def notifications(self):
        try:
            return self.notify_log.read_text(errors="replace")
        except OSError:
            return ""

    def close(self):
        if getattr(self, "closed", False):
            return
        self.closed = True
        if self.wd:
            self.wd.quit()
        if self.xwatch:
            self.xwatch.stop = True
        if self.tray:
            self.tray.close()
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait(5)
        # Anything a killed process group left behind in our tree.
        for name, p in self.procs:
            for k in children_of(p.pid):
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
