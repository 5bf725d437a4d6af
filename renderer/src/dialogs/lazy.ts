import { lazy } from 'react';

/** The action dialogs, loaded when first opened: every row's buttons may open one, few rows ever do (and their forms pull in zod). */
export const SnapshotDialog = lazy(() => import('./SnapshotDialog.js').then((m) => ({ default: m.SnapshotDialog })));
export const MigrateDialog = lazy(() => import('./MigrateDialog.js').then((m) => ({ default: m.MigrateDialog })));
export const ScaleDialog = lazy(() => import('./ScaleDialog.js').then((m) => ({ default: m.ScaleDialog })));
