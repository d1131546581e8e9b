// Loading what a screen shows: one value, or a listing paged by cursor.
import { useCallback, useEffect, useRef, useState } from "react";
import { useSyncExternalStore } from "react";
import { ApiError, type Page } from "./api/client";
import { getSession, subscribe, type Session } from "./auth";

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, getSession);
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, { title: String(err) });
}

/** Loads a value when deps change (a reload keeps the old value shown until the new one arrives). */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error: ApiError | null; loading: boolean }>({ error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: null, loading: false }),
      (err) => !controller.signal.aborted && setState((s) => ({ data: s.data, error: asApiError(err), loading: false })),
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface Paged<T> {
  items: T[];
  error: ApiError | null;
  loading: boolean;
  /** Whether the listing has more after what is shown. */
  more: boolean;
  loadMore: () => void;
  reload: () => void;
}

/** A listing paged by cursor: the first page when deps change, the next one on loadMore. */
export function usePaged<T>(load: (cursor: string | undefined, signal: AbortSignal) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const controller = useRef<AbortController | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;

  const fetchPage = useCallback((after: string | undefined) => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    setLoading(true);
    loadRef.current(after, c.signal).then(
      (page) => {
        if (c.signal.aborted) return;
        setItems((old) => (after ? [...old, ...page.items] : page.items));
        setCursor(page.next_cursor ?? null);
        setError(null);
        setLoading(false);
      },
      (err) => {
        if (c.signal.aborted) return;
        setError(asApiError(err));
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => {
    fetchPage(undefined);
    return () => controller.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);

  return {
    items,
    error,
    loading,
    more: cursor !== null,
    loadMore: () => cursor && fetchPage(cursor),
    reload: () => setRound((r) => r + 1),
  };
}
