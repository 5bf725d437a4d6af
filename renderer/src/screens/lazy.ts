import { lazy } from 'react';

/**
 * The screens the app does not start on, each loaded the first time it is shown: the
 * inventory then starts without parsing and running the code of consoles (noVNC, xterm),
 * charts (uPlot) and every form's schemas (zod), which was most of the page's script and
 * the longest task of its start.
 */
export const WorkloadScreen = lazy(() => import('../detail/WorkloadScreen.js').then((m) => ({ default: m.WorkloadScreen })));
export const CreateProcess = lazy(() => import('./CreateProcess.js').then((m) => ({ default: m.CreateProcess })));
export const CreateVm = lazy(() => import('./CreateVm.js').then((m) => ({ default: m.CreateVm })));
export const CreateContainer = lazy(() => import('./CreateContainer.js').then((m) => ({ default: m.CreateContainer })));
export const CreateContainerd = lazy(() => import('./CreateContainerd.js').then((m) => ({ default: m.CreateContainerd })));
export const DriversScreen = lazy(() => import('./DriversScreen.js').then((m) => ({ default: m.DriversScreen })));
export const EventsScreen = lazy(() => import('./EventsScreen.js').then((m) => ({ default: m.EventsScreen })));
export const SettingsScreen = lazy(() => import('./SettingsScreen.js').then((m) => ({ default: m.SettingsScreen })));
export const VncScreen = lazy(() => import('../vnc/VncScreen.js').then((m) => ({ default: m.VncScreen })));
export const ConsoleWindow = lazy(() => import('../vnc/ConsoleWindow.js').then((m) => ({ default: m.ConsoleWindow })));
