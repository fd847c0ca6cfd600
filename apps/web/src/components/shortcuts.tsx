import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Dialog, isTypingTarget } from './ui';

export interface ShortcutItem {
  keys: string[];
  description: string;
}
export interface ShortcutGroup {
  title: string;
  items: ShortcutItem[];
}

interface ShortcutsState {
  open: boolean;
  setOpen: (open: boolean) => void;
  setPageGroups: (groups: ShortcutGroup[]) => void;
}

const Ctx = createContext<ShortcutsState | null>(null);

export const GLOBAL_SHORTCUTS: ShortcutGroup = {
  title: 'Everywhere',
  items: [
    { keys: ['?'], description: 'Show this list of shortcuts' },
    { keys: ['g', 'p'], description: 'Go to Projects' },
    { keys: ['g', 'q'], description: 'Go to My queue' },
    { keys: ['g', 'a'], description: 'Go to Account' },
    { keys: ['Esc'], description: 'Close a dialog' },
  ],
};

export function ShortcutProvider({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const [pageGroups, setPageGroups] = useState<ShortcutGroup[]>([]);
  const value = useMemo(() => ({ open, setOpen, setPageGroups }), [open]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTypingTarget(e.target)) {
        e.preventDefault();
        setOpen((o) => !o);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <Ctx.Provider value={value}>
      {children}
      {open && (
        <Dialog title="Keyboard shortcuts" onClose={() => setOpen(false)} wide testId="shortcut-help">
          {[...pageGroups, GLOBAL_SHORTCUTS].map((g) => (
            <div className="shortcut-group" key={g.title}>
              <h3>{g.title}</h3>
              <table className="shortcut-table">
                <tbody>
                  {g.items.map((it) => (
                    <tr key={it.description}>
                      <td>
                        {it.keys.map((k, i) => (
                          <span key={i}>
                            {i > 0 && ' '}
                            <kbd>{k}</kbd>
                          </span>
                        ))}
                      </td>
                      <td>{it.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </Dialog>
      )}
    </Ctx.Provider>
  );
}

export function useShortcutHelp(): ShortcutsState {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useShortcutHelp outside ShortcutProvider');
  return ctx;
}

/** Registers page-specific shortcut groups for the `?` overlay while the page is mounted. */
export function usePageShortcuts(groups: ShortcutGroup[]): void {
  const { setPageGroups } = useShortcutHelp();
  const key = JSON.stringify(groups);
  useEffect(() => {
    setPageGroups(JSON.parse(key) as ShortcutGroup[]);
    return () => setPageGroups([]);
  }, [key, setPageGroups]);
}
