// Small pieces every screen uses.
import { useId, type ReactNode } from "react";
import type { ApiError, Thread } from "../api/client";
import { href } from "../router";

/** A problem shown to the user: what went wrong, announced to screen readers. */
export function ErrorNote({ error, children }: { error?: ApiError | null; children?: ReactNode }) {
  if (!error && !children) return null;
  return (
    <p className="error-note" role="alert">
      {children ?? describe(error!)}
    </p>
  );
}

export function describe(error: ApiError): string {
  switch (error.status) {
    case 401:
      return "Sign in to do this.";
    case 403:
      return error.problem.detail || "This is not yours to change.";
    case 404:
      return "This was not found: it may have been removed.";
    case 429:
      return "Too many requests at once: wait a moment and try again.";
    default:
      return error.message;
  }
}

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children: (props: { id: string; "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode;
}

/** A labelled control with its hint and the error the API gave for it, read out with it. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {children({ id, "aria-invalid": error ? true : undefined, "aria-describedby": described })}
      {error && (
        <span className="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

export function TagLink({ tag }: { tag: string }) {
  return (
    <a className="tag" href={href("/", { tag })}>
      #{tag}
    </a>
  );
}

const STATUS_LABEL: Record<string, string> = {
  pending: "Awaiting moderation",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
};

/** "Awaiting moderation", "Rejected" (with the reason, for those who may see it) or "Withdrawn"; nothing when approved. */
export function StatusBadge({ thread }: { thread: Pick<Thread, "status" | "moderation_reason"> }) {
  const label = STATUS_LABEL[thread.status];
  if (!label) return null;
  return (
    <span className={`status status-${thread.status}`}>
      <span className="badge">{label}</span>
      {thread.status === "rejected" && thread.moderation_reason && (
        <span className="reason"> Reason: {thread.moderation_reason}</span>
      )}
    </span>
  );
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

export function When({ at, prefix }: { at?: string | null; prefix?: string }) {
  if (!at) return null;
  const date = new Date(at);
  const seconds = (date.getTime() - Date.now()) / 1000;
  let text = "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) {
      text = relative.format(Math.round(seconds / size), unit);
      break;
    }
  }
  return (
    <time dateTime={at} title={date.toLocaleString()}>
      {prefix}
      {text}
    </time>
  );
}

export function LoadMore({ more, loading, onMore, label = "Load more" }: { more: boolean; loading: boolean; onMore: () => void; label?: string }) {
  if (!more) return null;
  return (
    <div className="load-more">
      <button type="button" className="button secondary" onClick={onMore} disabled={loading}>
        {loading ? "Loading…" : label}
      </button>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Plural({ n, one, many }: { n: number; one: string; many: string }) {
  return (
    <>
      {n} {n === 1 ? one : many}
    </>
  );
}
