import { useEffect } from 'react';
import { Toasts } from './components/Toasts.js';
import { useConnection } from './stores/connection.js';
import { useDrivers } from './stores/drivers.js';
import { startEventFeed, useWorkloads } from './stores/workloads.js';
import { href, useRoute, type Route } from './router.js';
import { CreateContainer } from './screens/CreateContainer.js';
import { CreateContainerd } from './screens/CreateContainerd.js';
import { CreateProcess } from './screens/CreateProcess.js';
import { CreateVm } from './screens/CreateVm.js';
import { DriversScreen } from './screens/DriversScreen.js';
import { EventsScreen } from './screens/EventsScreen.js';
import { SettingsScreen } from './screens/SettingsScreen.js';
import { WorkloadDetail } from './screens/WorkloadDetail.js';
import { WorkloadsScreen } from './screens/WorkloadsScreen.js';

const NAV: { route: Route; label: string; match: Route['screen'][] }[] = [
  { route: { screen: 'workloads' }, label: 'Workloads', match: ['workloads', 'workload', 'create'] },
  { route: { screen: 'drivers' }, label: 'Drivers', match: ['drivers'] },
  { route: { screen: 'events' }, label: 'Events', match: ['events'] },
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

export function App() {
  const route = useRoute();
  const connected = useConnection((s) => s.connected);
  useEffect(() => {
    startEventFeed();
    void useDrivers.getState().load();
    void useWorkloads.getState().load();
  }, []);
  // After a lost connection, re-read everything: events sent while away are gone.
  useEffect(() => {
    if (connected) {
      void useWorkloads.getState().load();
    }
  }, [connected]);

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="./icon.svg" alt="" width={28} height={28} /> NovaCron
        </div>
        {NAV.map((n) => (
          <a key={n.label} href={href(n.route)} className={n.match.includes(route.screen) ? 'active' : ''} data-testid={`nav-${n.route.screen}`}>
            {n.label}
          </a>
        ))}
      </nav>
      <main>
        {!connected && (
          <div className="banner banner-error" data-testid="disconnected">
            Lost the connection to NovaCron; reconnecting…
          </div>
        )}
        {route.screen === 'workloads' && <WorkloadsScreen />}
        {route.screen === 'workload' && <WorkloadDetail id={route.id} />}
        {route.screen === 'create' && <CreateForm driver={route.driver} />}
        {route.screen === 'drivers' && <DriversScreen />}
        {route.screen === 'events' && <EventsScreen />}
        {route.screen === 'settings' && <SettingsScreen />}
      </main>
      <Toasts />
    </div>
  );
}
