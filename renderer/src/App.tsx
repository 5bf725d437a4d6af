import { Suspense, useEffect } from 'react';
import { ActionDialog } from './components/LifecycleButtons.js';
import { Modal } from './components/Modal.js';
import { NotificationCenter } from './components/NotificationCenter.js';
import { Toasts } from './components/Toasts.js';
import { InventoryScreen } from './inventory/InventoryScreen.js';
import { CommandPalette } from './keyboard/CommandPalette.js';
import { closeDialogs, openNotifications, openPalette, useAppDialogs } from './keyboard/dialogs.js';
import { SHORTCUT_HELP, useShortcuts } from './keyboard/shortcuts.js';
import { href, useRoute, type Route } from './router.js';
import { ConsoleWindow, CreateContainer, CreateContainerd, CreateProcess, CreateVm, DriversScreen, EventsScreen, SettingsScreen, VncScreen, WorkloadScreen } from './screens/lazy.js';
import { useConnection } from './stores/connection.js';
import { useNotices } from './stores/notices.js';
import { useDrivers } from './stores/drivers.js';
import { startFeeds } from './stores/feed.js';
import { useWorkloads } from './stores/workloads.js';
import { cycleTheme, useTheme } from './theme.js';

const NAV: { route: Route; label: string; match: Route['screen'][] }[] = [
  { route: { screen: 'workloads' }, label: 'Workloads', match: ['workloads', 'workload', 'create'] },
  { route: { screen: 'drivers' }, label: 'Drivers', match: ['drivers'] },
  { route: { screen: 'events' }, label: 'Events', match: ['events'] },
  { route: { screen: 'vnc' }, label: 'VNC connections', match: ['vnc'] },
  { route: { screen: 'settings' }, label: 'Settings', match: ['settings'] },
];

/** Each driver's create spec has its own form; a driver without one says so. */
function CreateForm({ driver }: { driver: string }) {
  if (driver === 'process') return <CreateProcess />;
  if (driver === 'kvm' || driver === 'libvirt') return <CreateVm key={driver} driver={driver} />;
  if (driver === 'container') return <CreateContainer />;
  if (driver === 'containerd' || driver === 'kata-containers') return <CreateContainerd key={driver} driver={driver} />;
  return <p className="screen">No create form for {driver} yet.</p>;
}

/** The screen of the route; one shown for the first time loads its code first. */
function Screen({ route }: { route: Route }) {
  return (
    <Suspense fallback={<p className="muted screen">Loading…</p>}>
      <ScreenOf route={route} />
    </Suspense>
  );
}

function ScreenOf({ route }: { route: Route }) {
  switch (route.screen) {
    case 'workloads':
      return <InventoryScreen />;
    case 'workload':
      return <WorkloadScreen id={route.id} tab={route.tab ?? 'overview'} />;
    case 'create':
      return <CreateForm driver={route.driver} />;
    case 'drivers':
      return <DriversScreen />;
    case 'events':
      return <EventsScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'vnc':
      return <VncScreen />;
    case 'console':
      return <ConsoleWindow consoleKey={route.key} />;
  }
}

/** Dialogs the palette and the shortcuts open: the palette, the key list, an action's confirmation or form. */
function AppDialogs() {
  const d = useAppDialogs();
  const w = useWorkloads((s) => (d.action ? s.byId[d.action.id] : undefined));
  return (
    <>
      {d.palette && <CommandPalette />}
      {d.notifications && <NotificationCenter onClose={closeDialogs} />}
      {d.help && (
        <Modal title="Keyboard" onClose={closeDialogs} testId="shortcuts">
          <dl className="kv shortcuts">
            {SHORTCUT_HELP.map(([k, what]) => (
              <div key={k}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </Modal>
      )}
      {d.action && w && <ActionDialog w={w} action={d.action.action} onClose={closeDialogs} />}
    </>
  );
}

function NotificationsButton() {
  const count = useNotices((s) => s.log.length);
  const errors = useNotices((s) => s.log.filter((n) => n.level === 'error').length);
  return (
    <button onClick={openNotifications} data-testid="notifications-open" title="What happened this session (n)">
      Notifications{' '}
      <span className={`badge ${errors ? 'state-crashed' : 'muted'}`} data-testid="notifications-count">
        {count}
      </span>
    </button>
  );
}

export function App() {
  const route = useRoute();
  const connected = useConnection((s) => s.connected);
  const theme = useTheme();
  useShortcuts();
  useEffect(() => {
    startFeeds();
    void useDrivers.getState().load();
  }, []);
  // At start and after a lost connection, read everything: events sent while away are gone.
  useEffect(() => {
    if (connected) void useWorkloads.getState().load();
  }, [connected]);

  const banner = !connected && (
    <div className="banner banner-error" data-testid="disconnected">
      Lost the connection to NovaCron; reconnecting…
    </div>
  );
  if (route.screen === 'console') {
    return (
      <main className="bare">
        {banner}
        <Screen route={route} />
        <Toasts />
      </main>
    );
  }
  return (
    <div className="app">
      <button className="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="./icon.svg" alt="" width={28} height={28} /> NovaCron
        </div>
        {NAV.map((n) => (
          <a key={n.label} href={href(n.route)} className={n.match.includes(route.screen) ? 'active' : ''} aria-current={n.match.includes(route.screen) ? 'page' : undefined} data-testid={`nav-${n.route.screen}`}>
            {n.label}
          </a>
        ))}
        <div className="sidebar-foot">
          <NotificationsButton />
          <button onClick={openPalette} data-testid="open-palette" title="Ctrl/⌘ + K">
            Commands <kbd>Ctrl K</kbd>
          </button>
          <button onClick={cycleTheme} data-testid="theme-toggle" title="Light → dark → follow the system (t)">
            Theme: {theme.choice === 'system' ? `system (${theme.resolved})` : theme.choice}
          </button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        {banner}
        <Screen route={route} />
      </main>
      <Toasts />
      <AppDialogs />
    </div>
  );
}
