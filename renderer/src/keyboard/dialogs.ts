import { create } from 'zustand';
import type { Action } from '../../../shared/actions.js';

/** Dialogs opened from outside their buttons (the palette, a shortcut): one at a time, rendered by the app shell. */
export const useAppDialogs = create<{ palette: boolean; help: boolean; notifications: boolean; action?: { id: string; action: Action } }>(() => ({ palette: false, help: false, notifications: false }));

export const openPalette = () => useAppDialogs.setState({ palette: true, help: false, notifications: false });
export const openNotifications = () => useAppDialogs.setState({ notifications: true, palette: false, help: false });
export const openHelp = () => useAppDialogs.setState({ help: true, palette: false, notifications: false });
export const askAction = (id: string, action: Action) => useAppDialogs.setState({ action: { id, action }, palette: false });
export const closeDialogs = () => useAppDialogs.setState({ palette: false, help: false, notifications: false, action: undefined });
