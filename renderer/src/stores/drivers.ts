import { create } from 'zustand';
import type { DriverInfo } from '../../../shared/capabilities.js';
import type { DriverId } from '../../../shared/ids.js';
import { client } from '../transport/client.js';
import { notify } from './notices.js';

interface DriversState {
  list: DriverInfo[];
  byId: Partial<Record<DriverId, DriverInfo>>;
  loaded: boolean;
  load: (refresh?: boolean) => Promise<void>;
}

export const useDrivers = create<DriversState>((set) => ({
  list: [],
  byId: {},
  loaded: false,
  async load(refresh = false) {
    try {
      const list = await client.call('drivers.list', { refresh });
      set({ list, byId: Object.fromEntries(list.map((d) => [d.id, d])), loaded: true });
    } catch (e) {
      notify('error', `Cannot read the drivers: ${(e as Error).message}`);
    }
  },
}));
