import { useEffect, useState } from 'react';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, isAdminOnlyKey, type Config, type ConfigKey } from '../../../shared/config.js';
import { Field } from '../components/Field.js';
import { client } from '../transport/client.js';
import { notify } from '../stores/notices.js';
import { useDrivers } from '../stores/drivers.js';
import { DiagnosticsCard } from './DiagnosticsCard.js';
import { setTheme, useTheme, type ThemeChoice } from '../theme.js';

/** The config file's keys, each validated by the same schema the core loads it with. */
export function SettingsScreen() {
  const [loaded, setLoaded] = useState<{ config: Config; file: string; sources: Record<string, string> } | undefined>();
  const [draft, setDraft] = useState<Partial<Record<ConfigKey, string | boolean>>>({});
  const [errors, setErrors] = useState<Partial<Record<ConfigKey, string>>>({});
  useEffect(() => {
    client.call('config.get', {}).then(setLoaded, (e: Error) => notify('error', `Cannot read settings: ${e.message}`));
  }, []);
  if (!loaded) return <section className="screen"><p className="muted">Loading…</p></section>;

  const value = (k: ConfigKey) => (k in draft ? draft[k] : loaded.config[k]);
  const change = (k: ConfigKey, v: string | boolean) => {
    setDraft({ ...draft, [k]: v });
    const r = CONFIG_KEYS[k].schema.safeParse(v);
    setErrors({ ...errors, [k]: r.success ? undefined : r.error.issues[0]?.message });
  };
  const save = async () => {
    try {
      await client.call('config.set', { values: draft });
      setLoaded(await client.call('config.get', {}));
      setDraft({});
      notify('info', 'Settings saved');
      void useDrivers.getState().load(true);
    } catch (e) {
      notify('error', `Settings not saved: ${(e as Error).message}`);
    }
  };
  const invalid = Object.values(errors).some(Boolean);
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>Settings</h1>
        <button className="primary" disabled={invalid || Object.keys(draft).length === 0} onClick={() => void save()} data-testid="settings-save">
          Save
        </button>
      </header>
      <AppearanceCard />
      <p className="muted mono">{loaded.file}</p>
      <div className="form">
        {CONFIG_KEY_NAMES.map((k) => {
          const v = value(k);
          const source = loaded.sources[k];
          const locked = isAdminOnlyKey(k);
          const hint =
            `${CONFIG_KEYS[k].help} · from ${source}${source === 'env' ? ` (${CONFIG_KEYS[k].env} overrides the file)` : ''}` +
            (locked ? ` · names a program or a directory: set it with \`novacron config set ${k} …\` or in the config file` : '');
          return (
            <Field key={k} name={k} label={k} error={errors[k]} hint={hint}>
              {typeof v === 'boolean' ? (
                <input type="checkbox" checked={v} onChange={(e) => change(k, e.target.checked)} data-testid={`setting-${k}`} />
              ) : (
                <input className="mono" value={String(v)} readOnly={locked} onChange={(e) => change(k, e.target.value)} data-testid={`setting-${k}`} />
              )}
            </Field>
          );
        })}
      </div>
      <DiagnosticsCard />
    </section>
  );
}

/** Light, dark, or whatever the OS says (and follow it when it changes); kept in this browser. */
function AppearanceCard() {
  const { choice, resolved } = useTheme();
  return (
    <div className="card">
      <h2>Appearance</h2>
      <div className="row" role="radiogroup" aria-label="Theme">
        {(['system', 'light', 'dark'] as ThemeChoice[]).map((t) => (
          <label key={t} className="row">
            <input type="radio" name="theme" checked={choice === t} onChange={() => setTheme(t)} data-testid={`theme-${t}`} />
            {t === 'system' ? `Follow the system (now ${resolved})` : t}
          </label>
        ))}
      </div>
    </div>
  );
}
