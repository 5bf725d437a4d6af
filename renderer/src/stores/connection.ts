import { create } from 'zustand';

/** Whether the page can reach the core; a banner shows when it cannot. */
export const useConnection = create<{ connected: boolean; set: (up: boolean) => void }>((set) => ({
  connected: true,
  set: (up) => set({ connected: up }),
}));
